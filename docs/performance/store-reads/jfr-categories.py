import json, sys, collections
cats = {
 "store (JdbcKeyStore/AccessStore/sqlite)": ["io/p11kms/server/store/", "org/sqlite/"],
 "prepareStatement": ["prepareStatement"],
 "regex compile": ["java/util/regex/Pattern.compile"],
 "TimedHsm": ["io/p11kms/server/metrics/TimedHsm", "$Proxy"],
 "micrometer timer lookup": ["MeterRegistry.timer", "Timer$Builder.register"],
 "AuditLog.append": ["io/p11kms/server/audit/AuditLog.append"],
 "AccessLayer.authorize": ["io/p11kms/server/grpc/AccessLayer.authorize"],
 "token (TokenConnection)": ["io/p11kms/hsm/TokenConnection"],
}
for f in sys.argv[1:]:
    data = json.load(open(f))
    total = 0; c = collections.Counter()
    for e in data["recording"]["events"]:
        st = e["values"].get("stackTrace")
        if not st: continue
        t = (e["values"].get("sampledThread") or {}).get("javaName") or ""
        if t.startswith("main") or t.startswith("JFR"): continue
        total += 1
        names = [fr["method"]["type"]["name"] + "." + fr["method"]["name"] for fr in st["frames"]]
        for k, pats in cats.items():
            if any(any(p in n for p in pats) for n in names): c[k] += 1
    print(f"== {f}: {total} server samples (main/JFR excluded)")
    for k in cats: print(f"  {c[k]:5d} {100.0*c[k]/max(total,1):5.1f}%  {k}")
