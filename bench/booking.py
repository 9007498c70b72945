"""Benchmark: booking slots through the HTTP API, 50 concurrent clients, PostgreSQL (issue #6).

Starts a throwaway PostgreSQL cluster (``initdb`` in a temporary directory on a free loopback
port, as ``./dev test`` does; as the ``postgres`` user when run as root), migrates, builds the
persona county plus many residents of 东门社区 with a treating relationship to 城关镇卫生院,
and publishes the lead hospital's sessions for tomorrow. Then it runs a real server
(``yigongti runserver --noreload``, threaded) and 50 client threads (``requests``, one bearer
token each for the township doctor 赵敏, a grassroots booker) that book slots through
``POST /api/v1/scheduling/schedules/{id}/bookings`` until every session is full; a fifth more
attempts than slots are made, each for a different resident, so some answer 422 (约满).

Prints bookings per second and the p50/p95 latency of the booking requests, the same figures
for a baseline measured the same way in the same run (``GET /api/v1/me``, the cheapest
authenticated endpoint) and their ratio, then checks in the database that no slot holds two
live bookings and that the successes equal the slots. Never asserts a time. The cluster, the
server and the temporary directories are removed at the end.

    .venv/bin/python bench/booking.py [--clients 50] [--sessions 40] [--slots 50]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway cluster; yields its URL and removes it afterwards."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    bin_dir = Path(bins[-1])
    data = Path(tempfile.mkdtemp(prefix="yigongti-bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    ctl = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    subprocess.run(
        [*ctl, "-l", str(data / "server.log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "yigongti",
            ],
            check=True,
            capture_output=True,
        )
        version = subprocess.run(
            [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True
        ).stdout.strip()
        print(f"postgres: {version} on 127.0.0.1:{port}")
        yield f"postgresql://postgres@127.0.0.1:{port}/yigongti"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def build(sessions: int, slots: int, residents: int, clients: int) -> dict[str, Any]:
    """Personas, residents, care relationships, tomorrow's sessions and the clients' tokens."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import transaction

    from yigongti.accounts.queries import get_actor
    from yigongti.accounts.services import do_issue_token
    from yigongti.core import clock
    from yigongti.core.choices import AccessBasis
    from yigongti.core.services import do_load_default_parameters
    from yigongti.residents.models import Resident
    from yigongti.residents.rules import check_digit
    from yigongti.residents.services import (
        ResidentInput,
        bulk_ensure_care_relationships,
        bulk_register_residents,
    )
    from yigongti.scheduling.services import ScheduleInput, do_publish_schedule
    from yigongti.synth.personas import build_personas

    call_command("migrate", verbosity=0)
    today, now = clock.today(), clock.now()
    with transaction.atomic():
        do_load_default_parameters()
        world = build_personas()
        village = world.villages["东门社区"].code
        rows = []
        for i in range(residents):
            born = dt.date(1940, 1, 1) + dt.timedelta(days=i % 20000)
            first17 = f"439901{born:%Y%m%d}{i // 20000 % 1000:03d}"
            rows.append(
                ResidentInput(
                    name="测试"
                    + "甲乙丙丁戊己庚辛壬癸"[i % 10]
                    + "子丑寅卯辰巳午未申酉戌亥"[i % 12],
                    id_number=first17 + check_digit(first17),
                    division_code=village,
                    insurance_type="none",
                )
            )
        result = bulk_register_residents(rows, today=today, now=now)
        if result.rejected:
            raise SystemExit(f"residents rejected: {result.rejected[:3]}")
        people = list(
            Resident.objects.filter(division_code=village, name__startswith="测试")
            .order_by("pk")
            .values_list("pk", "mpi_id")
        )
        centre = world.institutions["thc_chengguan"]
        bulk_ensure_care_relationships(
            {(pk, centre.pk): (today, today + dt.timedelta(days=30), "bench") for pk, _ in people},
            kind=AccessBasis.TREATING,
            source="bench",
        )
        admin = get_actor(world.users["county_admin"])
        departments = list(world.lead_hospital.departments.order_by("code"))
        tomorrow = today + dt.timedelta(days=1)
        starts = (dt.time(7, 0), dt.time(13, 0), dt.time(18, 0))
        schedule_ids = []
        for n in range(sessions):
            begin = starts[(n // len(departments)) % len(starts)]
            day = tomorrow + dt.timedelta(days=n // (len(departments) * len(starts)))
            span = dt.timedelta(minutes=max(1, min(5, 300 // slots)) * slots)
            end = (dt.datetime.combine(day, begin) + span).time()
            schedule = do_publish_schedule(
                admin,
                ScheduleInput(
                    department_id=departments[n % len(departments)].pk,
                    day=day,
                    session=("am", "pm", "eve")[(n // len(departments)) % len(starts)],
                    start=begin,
                    end=end,
                    slot_count=slots,
                ),
            )
            schedule_ids.append(schedule.pk)
        doctor = world.users["township_doctor"]
        tokens = [do_issue_token(doctor, f"压测客户端 {i}", "doctor") for i in range(clients)]
    return {"schedules": schedule_ids, "people": [m for _, m in people], "tokens": tokens}


@contextmanager
def server(database_url: str, data_dir: Path) -> Iterator[str]:
    """``yigongti runserver --noreload`` on a free port; stopped (by its pid) afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "YIGONGTI_DATABASE_URL": database_url,
        "YIGONGTI_DATA_DIR": str(data_dir),
        "YIGONGTI_PROFILE": "demo",
    }
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [str(VENV_BIN / "yigongti"), "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/me", timeout=1).status_code == 401:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start; see " + str(data_dir / "server.log"))
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def session(token: str) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def run(
    clients: list[requests.Session],
    jobs: list[Any],
    call: Callable[[requests.Session, Any], int],
) -> tuple[float, list[tuple[int, float]]]:
    """Each client (a keep-alive session with its own token) takes the next job until none is
    left; returns the wall time and (status, seconds) per request. A request whose connection
    fails is recorded with status 0 and not retried (a retried booking could be a second one);
    the client then opens a new connection."""
    lock = threading.Lock()
    pending = iter(jobs)
    results: list[tuple[int, float]] = []
    start = threading.Barrier(len(clients) + 1)

    def client(index: int) -> None:
        http = clients[index]
        mine: list[tuple[int, float]] = []
        start.wait()
        while True:
            with lock:
                job = next(pending, None)
            if job is None:
                break
            t0 = time.perf_counter()
            try:
                status = call(http, job)
            except requests.ConnectionError:
                status = 0
                http.close()
                http = clients[index] = session(str(http.headers["Authorization"])[7:])
            mine.append((status, time.perf_counter() - t0))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def summary(label: str, wall: float, results: list[tuple[int, float]]) -> float:
    times = [s for _, s in results]
    rate = len(results) / wall
    print(
        f"{label}: {len(results)} requests in {wall:.2f} s = {rate:.1f} req/s, "
        f"p50 {percentile(times, 50) * 1000:.1f} ms, p95 {percentile(times, 95) * 1000:.1f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=40, help="sessions (schedules)")
    parser.add_argument("--slots", type=int, default=50, help="slots per session (1-200)")
    parser.add_argument("--extra", type=float, default=0.2, help="attempts beyond the slots")
    parser.add_argument("--baseline", type=int, default=3000, help="baseline GET requests")
    args = parser.parse_args()
    slots_total = args.sessions * args.slots
    attempts = round(slots_total * (1 + args.extra))
    data_dir = Path(tempfile.mkdtemp(prefix="yigongti-bench-booking-"))
    try:
        with postgres() as url:
            os.environ.update(
                {
                    "YIGONGTI_DATABASE_URL": url,
                    "YIGONGTI_DATA_DIR": str(data_dir),
                    "YIGONGTI_PROFILE": "demo",
                    "DJANGO_SETTINGS_MODULE": "yigongti.config.settings",
                }
            )
            import django

            django.setup()
            from django.db import connections
            from django.db.models import Count

            from yigongti.scheduling import rules
            from yigongti.scheduling.models import Booking

            t0 = time.perf_counter()
            world = build(args.sessions, args.slots, attempts, args.clients)
            connections.close_all()
            print(
                f"setup: {args.sessions} sessions × {args.slots} slots = {slots_total} slots, "
                f"{attempts} residents, {args.clients} clients in {time.perf_counter() - t0:.1f} s"
            )
            sessions = world["schedules"]
            # Attempt i books resident i into the sessions in turn: clients race on every
            # session at once, and each session is tried until full plus a few more times.
            jobs = [(sessions[i % len(sessions)], m) for i, m in enumerate(world["people"])]
            with server(url, data_dir) as base:

                def me(http: requests.Session, _: Any) -> int:
                    return http.get(base + "/me").status_code

                def book(http: requests.Session, job: tuple[int, str]) -> int:
                    schedule, mpi = job
                    return http.post(
                        f"{base}/scheduling/schedules/{schedule}/bookings", json={"mpi_id": mpi}
                    ).status_code

                clients = [session(t) for t in world["tokens"]]
                run(clients, list(range(4 * args.clients)), me)  # warm-up: connections open
                wall, baseline = run(clients, list(range(args.baseline)), me)
                base_rate = summary("baseline GET /api/v1/me", wall, baseline)
                wall, booked = run(clients, jobs, book)
                summary("booking POST (all attempts)", wall, booked)
                for http in clients:
                    http.close()
            statuses: dict[int, int] = {}
            for status, _ in booked:
                statuses[status] = statuses.get(status, 0) + 1
            wins = [s for code, s in booked if code == 201]
            print(
                f"bookings/s: {len(wins) / wall:.1f}; answers {dict(sorted(statuses.items()))} "
                "(201 booked, 422 full, 0 connection failed)"
            )
            print(
                f"latency of successful bookings: p50 {percentile(wins, 50) * 1000:.1f} ms, "
                f"p95 {percentile(wins, 95) * 1000:.1f} ms"
            )
            print(
                f"ratio booking attempts/s ÷ baseline req/s: {len(booked) / wall / base_rate:.2f}"
            )
            live = Booking.objects.filter(status__in=rules.LIVE_BOOKING)
            doubles = live.values("slot_id").annotate(n=Count("id")).filter(n__gt=1).count()
            per_person = (
                live.values("schedule_id", "resident_id").annotate(n=Count("id")).filter(n__gt=1)
            )
            print(f"slots with two live bookings: {doubles}")
            print(f"residents booked twice into one session: {per_person.count()}")
            print(
                f"live bookings {live.count()} = 201 answers {len(wins)} = slots {slots_total}: "
                f"{live.count() == len(wins) == slots_total}"
            )
            if statuses.get(0):
                print(f"({statuses[0]} requests lost their connection; see the counts above)")
            connections.close_all()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
