"""Encounters (门诊/急诊/住院) with diagnoses, procedures, costs and their insurance settlement;
settlements of county residents outside member institutions; imports."""
