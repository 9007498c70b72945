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
