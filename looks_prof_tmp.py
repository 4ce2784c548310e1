import sys, time, cProfile, pstats
from datetime import timedelta
from benchmarks.bench_incremental_looks import *
from benchmarks.bench_results import generate, load
from tests.services import fresh_postgres_schema
units = int(sys.argv[1])
ex, co = generate(units)
with fresh_postgres_schema("postgresql+psycopg://postgres@127.0.0.1:5432/test") as url:
    upgrade(url); engine = make_engine(url)
    load(engine, ex, co)
    start_experiment(engine, "bench", START, name="x", metrics=SELECTION)
    with session_scope(engine) as s:
        take_snapshot(s, "bench", END - timedelta(hours=1), on_new_look=None)
    an_hour_of_traffic(units).load(engine)
    for i in range(2):
      with session_scope(engine) as s:
        pr = cProfile.Profile(); pr.enable(); t=time.perf_counter()
        snap = take_snapshot(s, "bench", END, on_new_look=None, full_look_every=timedelta(days=99))
        print("incremental", time.perf_counter()-t, snap.results["look_kind"])
        pr.disable()
        if i: pstats.Stats(pr).sort_stats("cumulative").print_stats("looks/experiments", 30)
        s.rollback()
