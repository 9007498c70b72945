from django.db import models


class IdType(models.TextChoices):
    """Identity document types (cf. WS 364 身份证件类别代码)."""

    RESIDENT_ID = "01", "居民身份证"
    HMT_RESIDENCE = "06", "港澳台居民居住证"
    FOREIGN_PERMANENT = "07", "外国人永久居留身份证"
    PASSPORT = "03", "护照"
    BIRTH_CERTIFICATE = "08", "出生医学证明"
    OTHER = "99", "其他证件"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Relation(models.TextChoices):
    """与户主关系 (GB/T 4761, grouped)."""

    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    CHILD = "child", "子女"
    PARENT = "parent", "父母"
    GRANDPARENT = "grandparent", "祖父母/外祖父母"
    GRANDCHILD = "grandchild", "孙子女/外孙子女"
    SIBLING = "sibling", "兄弟姐妹"
    CHILD_IN_LAW = "child_in_law", "儿媳/女婿"
    OTHER = "other", "其他"


class InsuranceType(models.TextChoices):
    EMPLOYEE = "employee", "职工基本医疗保险"
    RESIDENT = "resident", "城乡居民基本医疗保险"
    NONE = "none", "未参保/其他"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "待处理"
    MERGED = "merged", "已合并"
    KEPT_APART = "kept_apart", "确认非同一人"
