"""The named test personas, shared by every scenario (DESIGN.md "Testing").

A fictional county 青禾县 (code 439901, under the fictional city 青禾市 439900 in province 43):
the codes follow GB/T 2260 structure but name no real place. ``tiny`` is exactly this set;
``demo`` and ``county`` add a generated population and more institutions around it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yigongti.accounts.choices import Role, ScopeKind
from yigongti.accounts.models import User
from yigongti.accounts.services import do_create_user
from yigongti.core.choices import AccessBasis
from yigongti.geo.choices import DivisionKind
from yigongti.geo.models import Division
from yigongti.geo.services import do_create_division
from yigongti.organizations.choices import (
    AffiliationKind,
    InstitutionLevel,
    InstitutionType,
    ManagementUnitKind,
    TreeLink,
)
from yigongti.organizations.models import Institution, Medcom
from yigongti.organizations.services import (
    do_add_affiliation,
    do_add_department,
    do_add_institution,
    do_create_medcom,
)
from yigongti.residents.choices import InsuranceType, Relation
from yigongti.residents.models import Resident
from yigongti.residents.services import (
    ResidentInput,
    do_create_household,
    do_grant_care_relationship,
    do_register_resident,
)
from yigongti.staff.choices import PracticeCategory, Profession, Sex, TitleGrade
from yigongti.staff.models import Practitioner
from yigongti.staff.services import do_add_practice_site, do_create_practitioner

# The demo password every persona account uses; printed by `./dev demo`. Never a real secret.
DEMO_PASSWORD = "Yigongti@2025"  # noqa: S105

PROVINCE_CODE = "430000000000"
CITY_CODE = "439900000000"
COUNTY_CODE = "439901000000"
MEDCOM_CODE = "QH-MEDCOM"
FICTION_NOTE = "虚构地区：青禾市、青禾县及其乡村均为合成数据，代码不对应真实行政区划"

# Fixed "as of" date of every generated scenario, so reruns are byte-for-byte identical.
AS_OF = dt.date(2025, 12, 31)
AS_OF_TIME = dt.datetime(2025, 12, 31, 8, 0, tzinfo=dt.UTC)

TOWNSHIPS = (
    # code suffix, name, kind, urban, villages (suffix, name, kind)
    ("001", "城关镇", DivisionKind.TOWN, True, (("001", "东门社区", DivisionKind.COMMUNITY),)),
    (
        "002",
        "河口乡",
        DivisionKind.TOWNSHIP,
        False,
        (("001", "河口村", DivisionKind.VILLAGE), ("002", "桃源村", DivisionKind.VILLAGE)),
    ),
)


@dataclass
class PersonaWorld:
    """Handles to the persona objects that tests and the generator build on."""

    county: Division
    townships: dict[str, Division]
    villages: dict[str, Division]
    medcom: Medcom
    lead_hospital: Institution
    institutions: dict[str, Institution]
    practitioners: dict[str, Practitioner]
    users: dict[str, User]
    residents: dict[str, Resident]


def township_code(suffix: str) -> str:
    return COUNTY_CODE[:6] + suffix + "000"


def village_code(township_suffix: str, suffix: str) -> str:
    return COUNTY_CODE[:6] + township_suffix + suffix


def build_geography() -> tuple[Division, dict[str, Division], dict[str, Division]]:
    province = Division.objects.filter(code=PROVINCE_CODE).first() or do_create_division(
        PROVINCE_CODE, "湖南省", None, is_fictional=False
    )
    city = do_create_division(CITY_CODE, "青禾市", province, is_fictional=True)
    county = do_create_division(COUNTY_CODE, "青禾县", city, is_fictional=True)
    townships: dict[str, Division] = {}
    villages: dict[str, Division] = {}
    for suffix, name, kind, urban, village_specs in TOWNSHIPS:
        town = do_create_division(
            township_code(suffix), name, county, kind=kind, is_urban=urban, is_fictional=True
        )
        townships[name] = town
        for v_suffix, v_name, v_kind in village_specs:
            villages[v_name] = do_create_division(
                village_code(suffix, v_suffix),
                v_name,
                town,
                kind=v_kind,
                is_urban=urban,
                is_fictional=True,
            )
    return county, townships, villages


def build_institutions(
    county: Division, townships: dict[str, Division], villages: dict[str, Division]
) -> tuple[Medcom, dict[str, Institution]]:
    medcom = do_create_medcom(
        MEDCOM_CODE,
        "青禾县紧密型县域医共体",
        county,
        established_on=dt.date(2023, 1, 1),
        is_fictional=True,
    )
    seat = townships["城关镇"]
    lead = do_add_institution(
        code="QH0001",
        name="青禾县人民医院",
        short_name="县人民医院",
        inst_type=InstitutionType.GENERAL_HOSPITAL,
        level=InstitutionLevel.SECONDARY,
        beds=600,
        division=seat,
        service_division=county,
        medcom=medcom,
        tree_link=TreeLink.ROOT,
    )
    inst = {"lead": lead}
    inst["tcm"] = do_add_institution(
        code="QH0002",
        name="青禾县中医医院",
        short_name="县中医医院",
        inst_type=InstitutionType.TCM_HOSPITAL,
        level=InstitutionLevel.SECONDARY,
        beds=300,
        division=seat,
        service_division=county,
        medcom=medcom,
        parent=lead,
        tree_link=TreeLink.COUNTY_MEMBER,
    )
    inst["mch"] = do_add_institution(
        code="QH0003",
        name="青禾县妇幼保健院",
        short_name="县妇幼保健院",
        inst_type=InstitutionType.MCH_HOSPITAL,
        level=InstitutionLevel.SECONDARY,
        beds=120,
        division=seat,
        service_division=county,
        medcom=medcom,
        parent=lead,
        tree_link=TreeLink.COUNTY_MEMBER,
    )
    for key, town_name, code, beds in (
        ("thc_chengguan", "城关镇", "QH1001", 60),
        ("thc_hekou", "河口乡", "QH1002", 40),
    ):
        inst[key] = do_add_institution(
            code=code,
            name=f"青禾县{town_name}卫生院",
            short_name=f"{town_name}卫生院",
            inst_type=InstitutionType.TOWNSHIP_HEALTH_CENTRE,
            level=InstitutionLevel.PRIMARY,
            beds=beds,
            division=townships[town_name],
            service_division=townships[town_name],
            medcom=medcom,
            parent=lead,
            tree_link=TreeLink.COUNTY_TOWNSHIP,
            is_legal_entity=True,
        )
        do_add_affiliation(
            inst[key],
            AffiliationKind.ADMINISTRATIVE,
            parent_division=townships[town_name],
            note="乡镇人民政府属地管理",
        )
    for key, village_name, parent_key, code in (
        ("vc_dongmen", "东门社区", "thc_chengguan", "QH2001"),
        ("vc_hekou", "河口村", "thc_hekou", "QH2002"),
        ("vc_taoyuan", "桃源村", "thc_hekou", "QH2003"),
    ):
        inst[key] = do_add_institution(
            code=code,
            name=f"青禾县{village_name}卫生室",
            short_name=f"{village_name}卫生室",
            inst_type=InstitutionType.VILLAGE_CLINIC,
            level=InstitutionLevel.UNRATED,
            division=villages[village_name],
            service_division=villages[village_name],
            medcom=medcom,
            parent=inst[parent_key],
            tree_link=TreeLink.TOWNSHIP_VILLAGE,
            is_legal_entity=False,
        )
        do_add_affiliation(
            inst[key],
            AffiliationKind.SUPERVISION,
            parent_institution=inst[parent_key],
            note="乡村一体化管理",
        )
    for code, name, beds in (
        ("NEI", "内科", 120),
        ("XNK", "心血管内科", 60),
        ("WAI", "外科", 120),
        ("FUC", "妇产科", 60),
        ("ERK", "儿科", 50),
        ("JZK", "急诊科", 20),
        ("QKY", "全科医学科", 30),
    ):
        do_add_department(lead, code, name, beds)
    for key in ("thc_chengguan", "thc_hekou"):
        do_add_department(inst[key], "QKY", "全科", inst[key].beds)
        do_add_department(inst[key], "GW", "公共卫生科", 0)
    return medcom, inst


def build_personas(seed: int = 1) -> PersonaWorld:
    """Build the persona county; ``seed`` only salts the demo passwords (personas are fixed)."""
    county, townships, villages = build_geography()
    medcom, inst = build_institutions(county, townships, villages)
    start = dt.date(2020, 1, 1)
    lead = inst["lead"]
    xnk = lead.departments.get(code="XNK")
    people: dict[str, Practitioner] = {}
    people["cardiologist"] = do_create_practitioner(
        code="QH0001-0001",
        name="李心远",
        sex=Sex.MALE,
        birth_date=dt.date(1976, 4, 12),
        profession=Profession.PHYSICIAN,
        practice_category=PracticeCategory.CLINICAL,
        title_grade=TitleGrade.ASSOCIATE_SENIOR,
        specialty="心血管内科",
        employer=lead,
        department=xnk,
        start_date=start,
    )
    # The cardiologist also practises at the Hekou health centre one day a week (多点执业).
    do_add_practice_site(people["cardiologist"], inst["thc_hekou"], dt.date(2024, 3, 1))
    people["family_doctor"] = do_create_practitioner(
        code="QH2003-0001",
        name="王建国",
        sex=Sex.MALE,
        birth_date=dt.date(1972, 9, 3),
        profession=Profession.VILLAGE_DOCTOR,
        practice_category=PracticeCategory.CLINICAL,
        title_grade=TitleGrade.JUNIOR,
        specialty="全科",
        employer=inst["vc_taoyuan"],
        start_date=start,
    )
    people["township_doctor"] = do_create_practitioner(
        code="QH1001-0001",
        name="赵敏",
        sex=Sex.FEMALE,
        birth_date=dt.date(1985, 2, 20),
        profession=Profession.PHYSICIAN,
        practice_category=PracticeCategory.CLINICAL,
        title_grade=TitleGrade.INTERMEDIATE,
        specialty="全科医学",
        is_general_practitioner=True,
        employer=inst["thc_chengguan"],
        department=inst["thc_chengguan"].departments.get(code="QKY"),
        start_date=start,
    )
    people["hekou_doctor"] = do_create_practitioner(
        code="QH1002-0001",
        name="陈立",
        sex=Sex.MALE,
        birth_date=dt.date(1988, 7, 8),
        profession=Profession.PHYSICIAN,
        practice_category=PracticeCategory.CLINICAL,
        title_grade=TitleGrade.INTERMEDIATE,
        specialty="全科医学",
        is_general_practitioner=True,
        employer=inst["thc_hekou"],
        start_date=start,
    )
    people["pharmacist"] = do_create_practitioner(
        code="QH0001-0002",
        name="孙药华",
        sex=Sex.FEMALE,
        birth_date=dt.date(1983, 11, 30),
        profession=Profession.PHARMACIST,
        title_grade=TitleGrade.INTERMEDIATE,
        specialty="临床药学",
        employer=lead,
        start_date=start,
    )
    people["public_health"] = do_create_practitioner(
        code="QH1002-0002",
        name="周卫民",
        sex=Sex.MALE,
        birth_date=dt.date(1980, 5, 16),
        profession=Profession.PUBLIC_HEALTH,
        title_grade=TitleGrade.INTERMEDIATE,
        specialty="慢病管理",
        employer=inst["thc_hekou"],
        start_date=start,
    )

    users: dict[str, User] = {}

    def user(
        key: str,
        username: str,
        name: str,
        institution: Institution | None,
        roles: list[str],
        scope: str,
        practitioner: Practitioner | None = None,
        unit: str = "",
    ) -> None:
        users[key] = do_create_user(
            username=username,
            password=DEMO_PASSWORD,
            display_name=name,
            institution=institution,
            roles=roles,
            scope_kind=scope,
            scope_medcom=medcom if scope == ScopeKind.MEDCOM else None,
            practitioner=practitioner,
            management_unit=unit,
            validate=False,
            # Deterministic salts keep generated data identical run to run; these are public
            # demo accounts whose password is printed anyway.
            salt=f"qinghedemo{seed}{username}".replace("_", ""),
        )

    user("county_admin", "admin", "刘管理", lead, [Role.COUNTY_ADMIN], ScopeKind.MEDCOM)
    user("auditor", "auditor", "钱审计", lead, [Role.AUDITOR], ScopeKind.MEDCOM)
    user(
        "centre_staff",
        "yibao",
        "吴医保",
        lead,
        [Role.CENTRE_STAFF],
        ScopeKind.MEDCOM,
        unit=ManagementUnitKind.INSURANCE,
    )
    user(
        "insurance_reviewer", "shenhe", "郑审核", None, [Role.INSURANCE_REVIEWER], ScopeKind.MEDCOM
    )
    user(
        "cardiologist",
        "lixy",
        "李心远",
        lead,
        [Role.DOCTOR],
        ScopeKind.INSTITUTION,
        people["cardiologist"],
    )
    user(
        "family_doctor",
        "wangys",
        "王建国",
        inst["vc_taoyuan"],
        [Role.FAMILY_DOCTOR, Role.VILLAGE_DOCTOR],
        ScopeKind.INSTITUTION,
        people["family_doctor"],
    )
    user(
        "township_doctor",
        "zhaom",
        "赵敏",
        inst["thc_chengguan"],
        [Role.DOCTOR],
        ScopeKind.SUBTREE,
        people["township_doctor"],
    )
    user(
        "hekou_doctor",
        "chenli",
        "陈立",
        inst["thc_hekou"],
        [Role.DOCTOR],
        ScopeKind.SUBTREE,
        people["hekou_doctor"],
    )
    user(
        "institution_admin",
        "hekou_admin",
        "河口乡卫生院管理员",
        inst["thc_hekou"],
        [Role.INSTITUTION_ADMIN],
        ScopeKind.SUBTREE,
    )
    user(
        "pharmacist",
        "sunyh",
        "孙药华",
        lead,
        [Role.PHARMACIST],
        ScopeKind.MEDCOM,
        people["pharmacist"],
    )
    user(
        "public_health",
        "zhouwm",
        "周卫民",
        inst["thc_hekou"],
        [Role.PUBLIC_HEALTH],
        ScopeKind.SUBTREE,
        people["public_health"],
    )

    residents: dict[str, Resident] = {}
    taoyuan = villages["桃源村"]
    household = do_create_household("H439901002002-0001", taoyuan, "河口乡桃源村3组12号")
    residents["elderly_patient"] = do_register_resident(
        None,
        ResidentInput(
            name="张德福",
            id_number="439901195103150033",
            division_code=taoyuan.code,
            phone="13807310001",
            address_detail="桃源村3组12号",
            household_code=household.code,
            relation_to_head=Relation.HEAD,
            insurance_type=InsuranceType.RESIDENT,
            insurance_number="43990119510315003",
            has_hypertension=True,
            has_diabetes=True,
        ),
        today=AS_OF,
    )
    residents["elderly_spouse"] = do_register_resident(
        None,
        ResidentInput(
            name="李秀英",
            id_number="439901195308210044",
            division_code=taoyuan.code,
            household_code=household.code,
            relation_to_head=Relation.SPOUSE,
            insurance_type=InsuranceType.RESIDENT,
            insurance_number="43990119530821004",
            has_hypertension=True,
        ),
        today=AS_OF,
    )
    residents["town_resident"] = do_register_resident(
        None,
        ResidentInput(
            name="陈晓东",
            id_number="439901199006120033",
            division_code=villages["东门社区"].code,
            phone="13907310002",
            address_detail="城关镇东门社区人民路8号",
            insurance_type=InsuranceType.EMPLOYEE,
            insurance_number="E4399010002",
        ),
        today=AS_OF,
    )
    do_grant_care_relationship(
        residents["elderly_patient"],
        inst["vc_taoyuan"],
        AccessBasis.FAMILY_DOCTOR,
        source="synth",
        source_ref="FDC-TAOYUAN-0001",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2027, 12, 31),
        practitioner=people["family_doctor"],
    )
    return PersonaWorld(
        county=county,
        townships=townships,
        villages=villages,
        medcom=medcom,
        lead_hospital=lead,
        institutions=inst,
        practitioners=people,
        users=users,
        residents=residents,
    )
