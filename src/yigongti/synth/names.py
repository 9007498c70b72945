"""Name material for the synthetic county: surnames, given-name characters, place names.

No Faker: Chinese names are a surname from a frequency list plus one or two given-name
characters whose fashion depends on the birth cohort. Place names are fictional combinations
of common Chinese toponym parts. Every list is a tuple so iteration order is fixed.
"""

from __future__ import annotations

# Surname frequencies in per cent of the population, national 户籍 ranking (about 2020),
# nudged towards Hunan (刘、唐、彭、谭、邓、曾 are more common there). [EST] recalled figures;
# only the ranking and rough weights matter for realism.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 6.5), ("李", 7.0), ("张", 6.0), ("刘", 6.0), ("陈", 5.0), ("杨", 3.1), ("黄", 2.5),
    ("赵", 2.0), ("吴", 2.0), ("周", 2.0), ("徐", 1.4), ("孙", 1.3), ("马", 1.2), ("朱", 1.3),
    ("胡", 1.4), ("郭", 1.1), ("何", 1.3), ("高", 1.0), ("林", 1.0), ("罗", 1.3), ("郑", 0.8),
    ("梁", 0.8), ("谢", 1.0), ("宋", 0.7), ("唐", 1.2), ("许", 0.6), ("韩", 0.6), ("冯", 0.6),
    ("邓", 1.0), ("曹", 0.7), ("彭", 1.0), ("曾", 0.9), ("肖", 0.8), ("田", 0.6), ("董", 0.5),
    ("袁", 0.5), ("潘", 0.5), ("于", 0.4), ("蒋", 0.6), ("蔡", 0.5), ("余", 0.5), ("杜", 0.4),
    ("叶", 0.5), ("程", 0.4), ("苏", 0.4), ("魏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("沈", 0.4), ("姚", 0.4), ("卢", 0.4), ("姜", 0.3), ("崔", 0.3), ("钟", 0.4), ("谭", 0.8),
    ("陆", 0.3), ("汪", 0.3), ("范", 0.3), ("金", 0.3), ("石", 0.4), ("廖", 0.5), ("贾", 0.3),
    ("夏", 0.4), ("韦", 0.2), ("付", 0.3), ("方", 0.3), ("白", 0.2), ("邹", 0.4), ("孟", 0.2),
    ("熊", 0.4), ("秦", 0.2), ("邱", 0.3), ("江", 0.3), ("尹", 0.3), ("薛", 0.2), ("段", 0.2),
    ("雷", 0.3), ("侯", 0.2), ("龙", 0.3), ("史", 0.2), ("陶", 0.3), ("黎", 0.3), ("贺", 0.4),
    ("顾", 0.2), ("毛", 0.3), ("郝", 0.2), ("龚", 0.3), ("邵", 0.2), ("万", 0.2), ("钱", 0.2),
    ("严", 0.2), ("覃", 0.1), ("武", 0.2), ("戴", 0.3), ("莫", 0.2), ("孔", 0.1), ("向", 0.3),
    ("汤", 0.3), ("易", 0.3), ("欧阳", 0.1),
)  # fmt: skip

# Given-name characters by sex and cohort (born before 1975 / from 1975). Two-character given
# names are drawn as FIRST × SECOND; single-character names from SINGLE.
GIVEN: dict[tuple[str, str], tuple[str, str, str]] = {
    ("M", "old"): (
        "建国志德永卫振学明文长金福春海立树庆玉家光新世兴保",
        "国华军强明平福林生东新民成荣忠才山发良贵清云祥泉",
        "军强平勇华林刚明斌伟彬亮辉",
    ),
    ("M", "young"): (
        "浩宇子俊梓博家思志文皓晨天一明嘉泽睿鹏雨俊宏",
        "轩杰豪文远鹏博然宇阳航泽辰熙涛瑞翔凯晨铭",
        "伟磊杰涛斌超鹏鑫宇浩波帆",
    ),
    ("F", "old"): (
        "秀桂玉凤春美淑丽小红金菊素月彩翠冬爱",
        "英兰珍芳华梅莲琴霞云娥香花荣芬娟凤",
        "芳娜敏静丽艳娟霞燕玲红梅兰",
    ),
    ("F", "young"): (
        "欣雨梓子思诗佳可雅婉梦紫一语若晓静心",
        "怡涵萱琪婷雪颖彤妍悦琳曦宁蕾洁菲然",
        "婷洁琳慧颖敏静娜璐丹倩",
    ),
}
# Births before this year draw from the "old" cohort pools.
COHORT_SPLIT_YEAR = 1975
# Size of the given-name pool drawn per (sex, cohort): keeps the number of distinct full names
# near 40k so the pinyin search keys (``residents.rules.pinyin_keys``, cached per name) stay
# cheap, and makes common names repeat as they do in real registers.
GIVEN_POOL_SIZE = 90
SINGLE_GIVEN_SHARE = 0.15

# Township names (fictional in a fictional county); streets (街道) first so that the demo
# gets one and the county two.
STREET_NAMES: tuple[str, ...] = ("龙潭街道", "凤凰街道", "文昌街道")
RURAL_TOWNSHIP_NAMES: tuple[str, ...] = (
    "石桥镇", "白沙乡", "梅溪镇", "金竹乡", "松柏镇", "青山乡", "杨林镇", "大坪乡", "双江镇",
    "永兴镇", "柳塘乡", "长岭乡", "花桥镇", "黄茅乡", "枫树镇", "高峰乡", "马鞍镇", "云溪乡",
)  # fmt: skip

# Village names: a stem of two toponym parts + 村; communities: a stem + 社区.
VILLAGE_FIRST = "石龙凤枫杨柳桃竹松梅荷金银白青黄红新大小高长双马牛狮鹤云花茶樟"
VILLAGE_SECOND = "桥塘坪山溪湾冲岭江田林园坡湖峰井源坝洲铺"
VILLAGE_FIXED: tuple[str, ...] = (
    "新民", "和平", "光明", "胜利", "红星", "东风", "建设", "团结", "先锋", "永丰", "丰收", "五星",
)  # fmt: skip
COMMUNITY_STEMS: tuple[str, ...] = (
    "人民路", "解放", "建设", "文昌", "书院", "南门", "北门", "西门", "新华", "朝阳", "胜利",
    "育才", "滨江", "向阳", "和平", "新城", "花园", "幸福", "金桥", "长乐", "民主", "工农",
    "五一", "迎宾", "青禾", "学府", "锦绣", "惠民", "康宁", "紫荆", "春华", "秋实", "桂花",
    "玉兰", "荷塘", "翠竹", "芙蓉", "湘江", "东城", "南岭", "北苑", "西湖",
)  # fmt: skip
ROADS: tuple[str, ...] = (
    "人民路", "解放路", "建设路", "文昌路", "新华路", "迎宾路", "五一路", "青禾大道", "滨江路",
    "书院路", "朝阳路", "龙潭路", "凤凰路", "育才路", "沿河路", "府前街", "南门街", "北正街",
)  # fmt: skip

# Private institutions (民营医疗机构): name, short name, beds at 500k residents.
PRIVATE_INSTITUTIONS: tuple[tuple[str, str, int], ...] = (
    ("青禾仁和医院", "仁和医院", 300),
    ("青禾康宁骨科医院", "康宁骨科", 150),
    ("青禾颐年康复医院", "颐年康复", 100),
    ("青禾同济门诊部", "同济门诊部", 0),
    ("青禾明亮眼科诊所", "明亮眼科", 0),
)

# Hunan prefecture county-level codes for residents first registered elsewhere (GB/T 2260;
# real codes, used only as the area part of synthetic identity numbers).
OTHER_AREA_CODES: tuple[int, ...] = (
    430102, 430121, 430181, 430203, 430221, 430304, 430321, 430421, 430482, 430502, 430581,
    430602, 430621, 430721, 430781, 430802, 430902, 430921, 431002, 431021, 431102, 431121,
    431202, 431221, 431302, 431321, 433101,
)  # fmt: skip
HOME_AREA_CODE = 439901

# Mobile prefixes (three digits) in use; weights roughly by carrier share [EST].
MOBILE_PREFIXES: tuple[int, ...] = (
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
    159, 166, 173, 175, 176, 177, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193,
    195, 198, 199,
)  # fmt: skip
