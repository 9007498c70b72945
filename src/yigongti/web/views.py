"""Pages of the foundation domains. Thin: parse the request, call queries/services, render.

Every page that takes an id checks the actor's scope for that row; person-level reads go through
``residents.services.do_read_resident`` (the audited gate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView, PasswordChangeView
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yigongti.accounts import rules as access
from yigongti.accounts.choices import Role
from yigongti.accounts.queries import Actor, get_actor, list_roles
from yigongti.accounts.services import (
    check_login_allowed,
    do_clear_login_failures,
    do_record_login_failure,
)
from yigongti.core import rules as kernel
from yigongti.core.choices import AccessBasis, AuditAction
from yigongti.core.errors import AccessDenied, DomainError
from yigongti.core.queries import list_audit_events, verify_audit_chain
from yigongti.core.services import AuditContext, do_record_audit
from yigongti.organizations.choices import InstitutionType
from yigongti.organizations.models import Institution
from yigongti.organizations.queries import get_institution, list_institutions
from yigongti.residents.forms import BreakGlassForm, remember_purpose, stored_purpose
from yigongti.residents.models import Resident
from yigongti.residents.queries import (
    count_by_village,
    get_resident_pk,
    list_duplicate_candidates,
    list_household_members,
    masked_row,
    search_residents,
)
from yigongti.residents.services import (
    do_keep_apart,
    do_merge_duplicate,
    do_read_resident,
    do_reveal_field,
)
from yigongti.staff.choices import TitleGrade
from yigongti.staff.queries import count_by_institution, list_practitioners
from yigongti.web.forms import (
    AuditFilterForm,
    ChinesePasswordChangeForm,
    DuplicateDecisionForm,
    LoginForm,
    ResidentSearchForm,
    RevealForm,
    StaffFilterForm,
)
from yigongti.web.middleware import ACTIVE_ROLE_KEY

PAGE_SIZE = 20

View = TypeVar("View", bound=Callable[..., HttpResponse])


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "")


def forbidden(request: HttpRequest, reason: str, **extra: Any) -> HttpResponse:
    return render(request, "403.html", {"reason": reason, **extra}, status=403)


def requires(capability: Callable[[str], bool], reason: str) -> Callable[[View], View]:
    """Login required, then a 403 page unless the active role has ``capability``."""

    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not capability(_actor(request).role):
                return forbidden(request, reason)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def paginate(request: HttpRequest, items: Any) -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def scoped_institutions(actor: Actor, q: str = "") -> QuerySet[Institution]:
    """Institutions the actor's scope covers (an ``exact`` scope: those institutions only)."""
    paths = actor.scope.institution_paths
    qs = list_institutions(within_paths=list(paths) if paths is not None else None, q=q)
    if actor.scope.exact and paths is not None:
        qs = qs.filter(path__in=paths)
    return qs


def _division_prefixes(actor: Actor) -> list[str] | None:
    prefixes = actor.scope.division_prefixes
    return list(prefixes) if prefixes is not None else None


def residents_served(institutions: Iterable[Institution]) -> dict[int, int]:
    """Live residents in each institution's service area (sum over its villages)."""
    institutions = list(institutions)
    prefixes = sorted({i.service_division.prefix for i in institutions})
    by_village = count_by_village(prefixes) if prefixes else {}
    return {
        i.pk: sum(n for code, n in by_village.items() if code.startswith(i.service_division.prefix))
        for i in institutions
    }


# ---------------------------------------------------------------------------
# Login, logout, password, role switch
# ---------------------------------------------------------------------------


def login_view(request: HttpRequest) -> HttpResponse:
    """Log in with throttling; successes and failures are audited."""
    if request.user.is_authenticated and request.method == "GET":
        return redirect("web:home")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    form = LoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        username = (request.POST.get("username") or "").strip()[:150]
        ip = _client_ip(request)
        failed = AuditContext(user_id=None, username=username, client_ip=ip, channel="web")
        try:
            check_login_allowed(username)
        except DomainError as exc:
            # Locked: refuse before authenticating, so the password is not even checked.
            do_record_audit(
                failed,
                action=AuditAction.LOGIN_FAILED,
                resource_type="session",
                detail={"reason": "locked"},
            )
            locked = LoginForm(request, initial={"username": username})
            message = "；".join(m for msgs in exc.field_errors.values() for m in msgs)
            return render(
                request,
                "web/login.html",
                {"form": locked, "next": next_url, "lockout_message": message},
            )
        if form.is_valid():
            user = form.get_user()
            do_clear_login_failures(username)
            auth_login(request, user)
            roles = list_roles(user)
            request.session[ACTIVE_ROLE_KEY] = roles[0] if roles else ""
            actor = get_actor(user, client_ip=ip, channel="web")
            do_record_audit(
                actor.audit_context(), action=AuditAction.LOGIN, resource_type="session"
            )
            if not url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                next_url = reverse(settings.LOGIN_REDIRECT_URL)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        if username:
            do_record_login_failure(username, ip)
            do_record_audit(failed, action=AuditAction.LOGIN_FAILED, resource_type="session")
    return render(request, "web/login.html", {"form": form, "next": next_url})


class WebLogoutView(LogoutView):
    pass


class WebPasswordChangeView(PasswordChangeView):
    form_class = ChinesePasswordChangeForm
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "密码已修改")
        return response


@require_POST
@login_required
def switch_role(request: HttpRequest) -> HttpResponse:
    role = request.POST.get("role", "")
    if role not in list_roles(request.user):  # type: ignore[arg-type]
        messages.error(request, "您没有该角色，不能切换")
    else:
        request.session[ACTIVE_ROLE_KEY] = role
        messages.success(request, f"已切换为“{Role(role).label}”角色")
    return redirect("web:home")


# ---------------------------------------------------------------------------
# Home page per role
# ---------------------------------------------------------------------------


def _aggregate_counts(actor: Actor) -> dict[str, Any]:
    insts = scoped_institutions(actor)
    by_type = dict(
        insts.order_by()
        .values_list("inst_type")
        .annotate(n=Count("id"))
        .values_list("inst_type", "n")
    )
    ids = list(insts.values_list("pk", flat=True))
    staff = count_by_institution(ids) if ids else {}
    prefixes = _division_prefixes(actor)
    return {
        "institution_total": len(ids),
        "institutions_by_type": [
            (label, by_type[value]) for value, label in InstitutionType.choices if value in by_type
        ],
        "bed_total": insts.aggregate(n=Sum("beds"))["n"] or 0,
        "staff_total": sum(staff.values()),
        "resident_total": sum(count_by_village(prefixes).values()),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    role = actor.role
    context: dict[str, Any] = {"role": role}
    if role == Role.COUNTY_ADMIN or role in access.AGGREGATE_ROLES:
        context["counts"] = _aggregate_counts(actor)
    if access.can_search_residents(role) and role != Role.COUNTY_ADMIN:
        context["search_form"] = ResidentSearchForm()
    if role == Role.INSTITUTION_ADMIN:
        subtree = scoped_institutions(actor)
        context["subtree"] = subtree[:PAGE_SIZE]
        context["subtree_total"] = subtree.count()
    if access.can_manage_mpi(role):
        context["duplicate_count"] = list_duplicate_candidates(actor).count()
    if access.can_read_audit(role):
        context["recent_events"] = list_audit_events()[:10]
    return render(request, "web/home.html", context)


# ---------------------------------------------------------------------------
# Institutions and staff
# ---------------------------------------------------------------------------


@login_required
def org_tree(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    q = (request.GET.get("q") or "").strip()[:40]
    visible = list(scoped_institutions(actor))
    matched_ids: set[int] = set()
    if q:
        matches = [
            i
            for i in visible
            if q.lower() in i.name.lower()
            or q.lower() in i.code.lower()
            or q.lower() in (i.short_name or "").lower()
        ]
        matched_ids = {i.pk for i in matches}
        # Keep the ancestors of every match so the tree still reads top-down.
        visible = [i for i in visible if any(m.path.startswith(i.path) for m in matches)]
    page = paginate(request, visible)
    staff = count_by_institution([i.pk for i in page])
    served = residents_served(page)
    min_depth = min((i.depth for i in visible), default=0)
    rows = [
        {
            "inst": inst,
            "indent": inst.depth - min_depth,
            "staff": staff.get(inst.pk, 0),
            "residents": served.get(inst.pk, 0),
            "matched": inst.pk in matched_ids,
        }
        for inst in page
    ]
    return render(
        request,
        "web/org_tree.html",
        {"page": page, "rows": rows, "q": q, "total": len(visible)},
    )


@login_required
def org_detail(request: HttpRequest, code: str) -> HttpResponse:
    actor = _actor(request)
    try:
        inst = get_institution(code)
    except Institution.DoesNotExist:
        raise Http404("未找到该机构") from None
    if not actor.scope.covers_institution(inst.path):
        return forbidden(request, "该机构不在您的数据范围内")
    by_grade = dict(
        list_practitioners(institution_code=inst.code)
        .filter(is_active=True)
        .order_by()
        .values_list("title_grade")
        .annotate(n=Count("id"))
        .values_list("title_grade", "n")
    )
    children = [c for c in inst.children.order_by("path") if actor.scope.covers_institution(c.path)]
    supervised = [
        a.institution
        for a in inst.affiliated.select_related("institution").order_by("institution__code")
        if actor.scope.covers_institution(a.institution.path)
    ]
    return render(
        request,
        "web/org_detail.html",
        {
            "inst": inst,
            "departments": inst.departments.order_by("code"),
            "affiliations": inst.affiliations.select_related(
                "parent_institution", "parent_division"
            ).order_by("kind"),
            "children": children,
            "supervised": supervised,
            "grades": [(label, by_grade.get(value, 0)) for value, label in TitleGrade.choices],
            "staff_total": sum(by_grade.values()),
            "residents": residents_served([inst])[inst.pk],
        },
    )


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    insts = scoped_institutions(actor)
    choices = [(i.code, i.label) for i in insts]
    form = StaffFilterForm(request.GET or None, institutions=choices)
    filters: dict[str, str] = {}
    if form.is_valid():
        filters = {
            "q": form.cleaned_data["q"].strip(),
            "profession": form.cleaned_data["profession"],
            "title_grade": form.cleaned_data["title_grade"],
            "institution_code": form.cleaned_data["institution"],
        }
    paths = actor.scope.institution_paths
    qs = list_practitioners(within_paths=list(paths) if paths is not None else None, **filters)
    if actor.scope.exact and paths is not None:
        qs = qs.filter(employer__path__in=paths)
    page = paginate(request, qs)
    return render(request, "web/staff_list.html", {"form": form, "page": page})


# ---------------------------------------------------------------------------
# Residents
# ---------------------------------------------------------------------------


@requires(access.can_search_residents, "您的角色不能查询居民个人档案")
def resident_search(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = ResidentSearchForm(request.GET or None)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    found = search_residents(actor, q)
    page = paginate(request, found if found.ordered else found.order_by("mpi_id")) if q else None
    rows = [masked_row(r) for r in page] if page is not None else []
    # A full identity number typed into the box is not echoed back into the page.
    by_document = len(q) in (15, 18) and q[:14].isdigit()
    return render(
        request,
        "web/resident_search.html",
        {
            "q": q,
            "q_display": "" if by_document else q,
            "by_document": by_document,
            "page": page,
            "rows": rows,
        },
    )


def _detail_context(resident: Resident, basis: str, purpose: str) -> dict[str, Any]:
    members = [
        {
            "name": kernel.mask_name(member.name),
            "relation": member.get_relation_to_head_display(),
            "sex": member.get_sex_display(),
            "birth_year": member.birth_date.year,
        }
        for member in list_household_members(resident)
    ]
    village = resident.division
    township = village.parent if village else None
    chronic = [
        label
        for flag, label in (
            (resident.has_hypertension, "高血压"),
            (resident.has_diabetes, "2型糖尿病"),
            (resident.has_severe_mental_illness, "严重精神障碍"),
        )
        if flag
    ]
    # The detail line often repeats the village ("桃源村3组12号"); do not print it twice.
    detail = resident.address_detail or ""
    area = f"{township.name if township else ''}{village.name if village else ''}"
    for known in (area, village.name if village else ""):
        if known and detail.startswith(known):
            detail = detail[len(known) :]
            break
    return {
        "resident": resident,
        "address": area + detail,
        "masked_id": kernel.mask_id_number(resident.id_number),
        "masked_phone": kernel.mask_phone(resident.phone),
        "members": members,
        "chronic": chronic,
        "basis": basis,
        "basis_label": AccessBasis(basis).label if basis in AccessBasis.values else basis,
        "is_break_glass": basis == AccessBasis.BREAK_GLASS,
        "purpose": purpose,
        "revealed": {},
    }


def _denied_page(
    request: HttpRequest, exc: AccessDenied, mpi_id: str, form: BreakGlassForm | None = None
) -> HttpResponse:
    extra: dict[str, Any] = {}
    if exc.can_break_glass:
        extra = {"break_glass_form": form or BreakGlassForm(), "mpi_id": mpi_id}
    return forbidden(request, exc.reason, **extra)


@login_required
def resident_detail(request: HttpRequest, mpi_id: str) -> HttpResponse:
    """GET: the audited read. POST: a break-glass purpose, kept for this record, then GET."""
    actor = _actor(request)
    if request.method == "POST":
        form = BreakGlassForm(request.POST)
        if not form.is_valid():
            try:
                do_read_resident(actor, mpi_id, purpose=stored_purpose(request, mpi_id))
            except AccessDenied as exc:
                return _denied_page(request, exc, mpi_id, form)
            return redirect("web:resident_detail", mpi_id=mpi_id)
        remember_purpose(request, mpi_id, form)
        return redirect("web:resident_detail", mpi_id=mpi_id)
    purpose = stored_purpose(request, mpi_id)
    try:
        resident, basis = do_read_resident(actor, mpi_id, purpose=purpose)
    except AccessDenied as exc:
        return _denied_page(request, exc, mpi_id)
    return render(request, "web/resident_detail.html", _detail_context(resident, basis, purpose))


@require_POST
@login_required
def resident_reveal(request: HttpRequest, mpi_id: str) -> HttpResponse:
    """Show one full value: the page is read again (audited) and the reveal is audited."""
    actor = _actor(request)
    purpose = stored_purpose(request, mpi_id)
    try:
        resident, basis = do_read_resident(actor, mpi_id, purpose=purpose)
    except AccessDenied as exc:
        return _denied_page(request, exc, mpi_id)
    context = _detail_context(resident, basis, purpose)
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, "只能显示证件号码或联系电话的完整值")
    else:
        field = form.cleaned_data["field"]
        try:
            context["revealed"] = {field: do_reveal_field(actor, resident, field, basis)}
        except DomainError as exc:
            messages.error(request, exc.text())
    return render(request, "web/resident_detail.html", context)


@requires(access.can_manage_mpi, "只有县级管理员或机构管理员可以处理疑似重复记录")
def duplicates(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    page = paginate(request, list_duplicate_candidates(actor))
    pairs = [
        {"candidate": c, "a": masked_row(c.resident_a), "b": masked_row(c.resident_b)} for c in page
    ]
    return render(request, "web/duplicates.html", {"page": page, "pairs": pairs})


@require_POST
@requires(access.can_manage_mpi, "只有县级管理员或机构管理员可以处理疑似重复记录")
def duplicate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    candidate = list_duplicate_candidates(actor).filter(pk=pk).first()
    if candidate is None:
        raise Http404("未找到该疑似重复记录")
    form = DuplicateDecisionForm(request.POST)
    back = reverse("web:duplicates")
    page = request.POST.get("page", "")
    if page.isdigit():
        back += f"?page={page}"
    if not form.is_valid():
        messages.error(request, "请选择处理方式")
        return redirect(back)
    decision = form.cleaned_data["decision"]
    note = form.cleaned_data["note"].strip()
    try:
        if decision == "apart":
            do_keep_apart(actor, candidate, note)
            messages.success(
                request,
                f"已确认 {candidate.resident_a.mpi_id} 与 {candidate.resident_b.mpi_id} 不是同一人",
            )
        else:
            keep = candidate.resident_a if decision == "keep_a" else candidate.resident_b
            survivor = do_merge_duplicate(actor, candidate, keep.pk, note)
            messages.success(request, f"已合并，保留主索引号 {survivor.mpi_id}")
    except (DomainError, AccessDenied) as exc:
        messages.error(request, exc.reason if isinstance(exc, AccessDenied) else exc.text())
    return redirect(back)


# ---------------------------------------------------------------------------
# Audit log
# ---------------------------------------------------------------------------


@requires(access.can_read_audit, "只有审计员可以查看审计日志")
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "username": data["username"].strip(),
            "action": data["action"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
        mpi_id = data["mpi_id"].strip()
        if mpi_id:
            found = get_resident_pk(mpi_id)
            filters["resident_id"] = found if found is not None else -1
    events = list_audit_events(**filters) if not form.is_bound or form.is_valid() else None
    page = paginate(request, events) if events is not None else None
    verdict = verify_audit_chain() if request.GET.get("verify") else None
    role_labels = {**dict(Role.choices), "system": "系统"}
    for event in page or []:
        event.role_label = role_labels.get(event.actor_role, event.actor_role)
    return render(request, "web/audit_log.html", {"form": form, "page": page, "verdict": verdict})


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages naming no icon (printouts): the platform's
    icon (resolved per request, so the static manifest need not exist at import)."""
    return redirect(static("web/favicon.svg"), permanent=True)
