"""Calibrated numbers for the synthetic population, each citing reference/calibration.md.

Tags follow calibration.md: OFF official, SEC secondary, DER derived, EST estimate.
"""

from __future__ import annotations

import numpy as np

# §1 "5-year bands (% of population)" [EST, recalled]: 0-4 … 80-84, 85+.
AGE_BANDS_PCT: tuple[float, ...] = (
    5.5, 6.4, 6.0, 5.1, 5.3, 6.5, 8.8, 7.0, 6.6, 8.1, 8.6, 7.2, 5.2, 5.2, 3.5, 2.2, 1.4, 1.1,
)  # fmt: skip
# §1 "Broad age shares" [OFF, census 2020]: 0-14 17.95 %, 15-59 63.35 %, 60+ 18.70 %.
BROAD_SHARES = {"0-14": 0.1795, "15-59": 0.6335, "60+": 0.1870}
# §1 rural areas older: 60+ about 23.8 % [EST]; §8 county default 60+ 22-25 % [DER/EST].
RURAL_60_PLUS = 0.238
# Urban streets are younger; chosen so a county with 40-50 % urban lands inside §8's 22-25 %
# band once the persona town is included [EST, inferred from §1 national 18.7 %].
URBAN_60_PLUS = 0.175
# §1 sex ratio 105.07 (male 51.24 %) [OFF, 7th census].
MALE_SHARE = 0.5124
# §1 household size 2.62 [OFF].
HOUSEHOLD_SIZE = 2.62
# §8 urban share 40-50 % [DER/EST].
URBAN_SHARE = 0.45

# §8 resources per 500k residents [DER/EST]: beds 3,000-3,500; physicians 1,300-1,600;
# nurses 1,500-1,900. Midpoints are the targets.
PER_500K = {"beds": 3250, "physicians": 1450, "nurses": 1700}
# Other professions relative to physicians [EST, not in calibration.md: national ratios of
# pharmacists ≈ 0.15 and technicians ≈ 0.2 of physicians, recalled].
PHARMACIST_PER_PHYSICIAN = 0.13
TECHNICIAN_PER_PHYSICIAN = 0.20

# §4 hypertension by age [EST]: 18-44 about 12 %, 45-59 about 35 %, 60+ about 55 %.
HYPERTENSION = {(18, 45): 0.12, (45, 60): 0.35, (60, 200): 0.55}
# §4 diabetes 18+ 11.9 % [OFF] and 60+ about 25 % [EST]; the under-60 rate is solved from the
# realised adult age mix so the 18+ share hits 11.9 %, split 1:3 between 18-44 and 45-59.
DIABETES_ADULT = 0.119
DIABETES_60_PLUS = 0.25
DIABETES_YOUNG_TO_MIDDLE = 1 / 3
# §4 severe mental illness 0.43 % (2018) [SEC]; "use 0.45-0.5 % for 2023"; §8 about 0.45 %.
SMI_SHARE = 0.0045

# Insurance mix [EST, issue #3 item 5]: about 22 % employee (more in towns), 76 % resident
# (城乡居民), 2 % none. Employee cover goes to working-age and retired adults only.
INSURANCE_EMPLOYEE = 0.22
INSURANCE_NONE = 0.02

# Title mix [EST, issue #3 item 5]: county hospitals 初级 40 %, 中级 35 %, 副高 18 %, 正高 7 %;
# THCs mostly 初级/中级 with few 副高; village doctors 初级 or none.
TITLE_MIX = {
    "county": (0.40, 0.35, 0.18, 0.07),
    "thc": (0.55, 0.38, 0.07, 0.0),
    "private": (0.50, 0.35, 0.12, 0.03),
    "cdc": (0.40, 0.40, 0.15, 0.05),
}
VILLAGE_DOCTOR_JUNIOR_SHARE = 0.35

# Look-alike records for the duplicate queue [issue #3 item 5]: about 0.05 %.
LOOKALIKE_SHARE = 0.0005


def single_year_weights() -> np.ndarray:
    """Weights for ages 0..99 from the 5-year bands, rescaled to the broad shares (§1).

    The 15-59 bands sum to 63.2 against the official 63.35, so each broad group is scaled to
    its official share; 85+ is spread over 85-99 with a geometric decline.
    """
    bands = np.array(AGE_BANDS_PCT, dtype=float)
    groups = {"0-14": slice(0, 3), "15-59": slice(3, 12), "60+": slice(12, 18)}
    for key, part in groups.items():
        bands[part] *= BROAD_SHARES[key] / bands[part].sum()
    weights = np.zeros(100)
    for band in range(17):
        weights[band * 5 : band * 5 + 5] = bands[band] / 5
    tail = 0.8 ** np.arange(15)
    weights[85:100] = bands[17] * tail / tail.sum()
    return weights / weights.sum()


# ---------------------------------------------------------------------------
# Encounters and settlements (synth/encounters.py), calibration.md §2-§4 and §8.
# ---------------------------------------------------------------------------

# §2 "Total visits" 6.8 per person (2023) [OFF].
VISITS_PER_PERSON = 6.8
# §8 visit split for a 500k county [DER/EST]: county hospitals 30-35 %, THC 25-30 %, village
# clinics 20-25 %, private clinics and others 10-15 %, out-of-county 5-10 % (midpoints). The
# private/other share is not generated as visits: private clinics are outside the medcom and
# send no data; retail-pharmacy purchases are generated separately (PHARMACY_PER_PERSON).
VISIT_SPLIT = {"county": 0.325, "thc": 0.275, "village": 0.225, "out_of_county": 0.075}
# Split of county-hospital outpatient visits between the general, TCM and MCH hospitals
# [I, inferred: the TCM hospital about a quarter, so 中医类 visits land in 15-20 %].
COUNTY_HOSPITAL_SPLIT = {"general": 0.60, "tcm": 0.25, "mch": 0.15}
# Emergency share of county-hospital visits [I, inferred; not in calibration.md].
EMERGENCY_SHARE = 0.06
# Retail-pharmacy settlements per person a year [I, inferred; not in calibration.md].
PHARMACY_PER_PERSON = 1.2

# §2 admissions about 21.4 per 100 (2023) [DER]; §8 18-22 per 100, 85-90 % inside the county,
# 15-25 % of in-county admissions at THCs [DER/EST].
ADMISSIONS_PER_100 = 20.0
# §2 how the national volumes grew in a year, 2023 → 2024: visits 6.8 → 7.2 per person and
# admissions 21.4 → 22.1 per 100 [OFF/DER]. The rates above are the latest generated year's;
# each year before it is smaller by these factors, so a demo's two years do not read alike to
# the visit (a page review saw 280,500 visits and 8,750 discharges in both 2024 and 2025).
VISIT_GROWTH = 7.2 / 6.8
ADMISSION_GROWTH = 22.1 / 21.4


def year_volumes(year: int, latest: int) -> tuple[float, float]:
    """Visits per person and admissions per 100 of ``year``, ``latest`` being the
    calibration's year: the rates above shrunk by a year's growth for each year before."""
    back = latest - year
    return VISITS_PER_PERSON / VISIT_GROWTH**back, ADMISSIONS_PER_100 / ADMISSION_GROWTH**back


ADMISSIONS_IN_COUNTY = 0.875
ADMISSIONS_AT_THC = 0.20
# In-county hospital admissions between general, TCM and MCH hospitals [I, inferred].
COUNTY_ADMISSION_SPLIT = {"general": 0.70, "tcm": 0.15, "mch": 0.15}
# §2 ALOS: public hospitals 8.4 d (2023) [OFF]; THC 6-7 d [SEC]; out-of-county tertiary
# longer [I]. Stays are 1 + a gamma draw with these means.
ALOS_DAYS = {"county": 8.0, "thc": 6.5, "out_of_county": 10.0}

# §8 costs (yuan) [DER/EST]: outpatient 200-250 county hospital, about 90 THC, about 40 village;
# inpatient 6,500-7,500 county, about 2,300 THC, 14,000-20,000 out-of-county tertiary.
# §3 tertiary outpatient 354.4 (Q1 2022) [OFF] for out-of-county visits. Means of lognormals.
OUTPATIENT_COST = {"county": 225.0, "thc": 90.0, "village": 40.0, "out_of_county": 354.0}
INPATIENT_COST = {"county": 7000.0, "thc": 2300.0, "out_of_county": 17000.0}
# Emergency visits cost more than clinic visits [I, inferred].
EMERGENCY_COST_FACTOR = 1.6
# Spread of the lognormals (sigma of log cost) [I, inferred].
COST_SIGMA = {"outpatient": 0.65, "inpatient": 0.55, "pharmacy": 0.7}
# Retail-pharmacy purchase mean (yuan) [I, inferred].
PHARMACY_COST = 85.0
# §3 drugs are 38.0 % of the outpatient and 24.3 % of the inpatient bill (2022) [OFF]; the other
# parts (materials, examinations and tests, services) [I, inferred]. Order: drug, material,
# exam, service; drawn from a Dirichlet with these means.
COST_PARTS = {
    "outpatient": (0.38, 0.05, 0.27, 0.30),
    "inpatient": (0.24, 0.20, 0.26, 0.30),
}
COST_PARTS_CONCENTRATION = 40.0

# §3 resident reimbursement by level [EST]: THC 80-90 % (deductible 100-200), county 70-80 %
# (300-600), city or out-of-county 55-65 % (800-1,500); out of province without referral 10-20
# points lower; the whole-bill rate about 10 points lower. §3 employee in-scope rate 84.1 %
# against residents' 66.0 % [SEC]: employees get about 15 points more [DER]. Outpatient
# pooling (门诊统筹) rates [I, inferred]. Values: (whole-bill rate, deductible yuan).
INPATIENT_REIMBURSEMENT = {
    "thc": (0.75, 150.0),
    "county": (0.65, 450.0),
    "out_of_county": (0.50, 1000.0),
}
UNREFERRED_PENALTY = 0.15
EMPLOYEE_BONUS = 0.15
OUTPATIENT_REIMBURSEMENT = {
    "village": 0.55,
    "thc": 0.50,
    "county": 0.40,
    "out_of_county": 0.20,
    "pharmacy": 0.10,
}
# Out-of-county admissions with a referral filed (转诊备案) [I, inferred].
OUT_OF_COUNTY_REFERRED = 0.6

# §4 chronic-disease follow-ups are about 30-40 % of THC visits [EST]; village clinics also
# see chronic patients [I].
CHRONIC_SHARE = {"thc": 0.35, "village": 0.25, "county": 0.10}
# §4 中医类 share: some THC visits are TCM (their 中医科) [I, inferred]; every TCM-hospital
# visit is TCM; a few at the general hospital's 中医科.
TCM_SHARE = {"thc": 0.18, "village": 0.08, "general": 0.03}
# §4 winter influenza peak: respiratory diagnoses weighted by month (Dec-Feb) [I, inferred from
# §4 class C notifiable diseases led by influenza].
RESPIRATORY_MONTH_WEIGHT = (2.2, 2.0, 1.3, 0.9, 0.7, 0.6, 0.6, 0.6, 0.7, 0.9, 1.3, 2.2)
# Visit and admission intensity by age band (0-4, 5-14, 15-44, 45-59, 60+) [I, inferred; §4
# "age 60+ is about 45-50 % of admissions" EST].
VISIT_AGE_WEIGHT = (1.6, 0.8, 0.6, 1.0, 1.8)
ADMISSION_AGE_WEIGHT = (1.2, 0.4, 0.5, 1.0, 3.2)
# §4 grade 3-4 operations are 30-50 % of county-hospital inpatient operations; THCs almost all
# grade 1-2 [EST]. Share of stays with an operation by diagnosis lives in synth/encounters.py.
