# tests/integ/sandbox_check.py UNIT STRACE BINARY (for t_deb.sh): what
# the traced BINARY did (strace -f) after its execve, held against UNIT's
# SystemCallFilter= (groups expanded by systemd-analyze syscall-filter; in
# order, as systemd reads them: after an allow-list, a "~" line takes
# calls out of it and a later line puts them back), RestrictAddressFamilies=
# and MemoryDenyWriteExecute=.  Prints each
# breach and the system calls made; exit 1 on any breach.
import re, subprocess, sys

unit, trace, binary = sys.argv[1:4]
allow, deny, families, mdwe = set(), set(), None, False

out = subprocess.run(["systemd-analyze", "syscall-filter"],
                     capture_output=True, text=True, check=True).stdout
groups, cur = {}, None
for line in out.splitlines():
    w = line.strip()
    if line.startswith("@"):
        cur = w.split()[0]
        groups[cur] = []
    elif cur and w and not w.startswith("#"):
        groups[cur].append(w)

def expand(names):
    r = set()
    for n in names:
        r |= expand(groups[n]) if n.startswith("@") else {n}
    return r

for line in open(unit):
    k, _, v = line.strip().partition("=")
    if k == "SystemCallFilter":
        if v.startswith("~"):
            calls = expand(v[1:].split())
            deny |= calls
            allow -= calls
        else:
            calls = expand(v.split())
            allow |= calls
            deny -= calls
    elif k == "RestrictAddressFamilies":
        families = set(v.split())
    elif k == "MemoryDenyWriteExecute":
        mdwe = v == "yes"

bad, used, started = [], set(), False
for line in open(trace):
    m = re.match(r"\d+\s+([a-z0-9_]+)\((.*)", line)
    if not m:
        continue
    call, args = m.groups()
    if call == "execve" and args.startswith('"%s"' % binary):
        started = True
        continue
    if not started:
        continue
    used.add(call)
    if allow and (call not in allow or call in deny):
        bad.append("system call %s: not in SystemCallFilter=" % call)
    if call == "socket" and families is not None:
        fam = args.split(",")[0]
        if fam not in families:
            bad.append("socket(%s): not in RestrictAddressFamilies=" % fam)
    prot = re.findall(r"PROT_[A-Z_|]+", args)
    if mdwe and prot and "PROT_EXEC" in prot[0] and (
            call != "mmap" or "PROT_WRITE" in prot[0]):
        bad.append("%s(%s: MemoryDenyWriteExecute=" % (call, prot[0]))
if not started:
    bad.append("no execve of %s in the trace" % binary)
for b in sorted(set(bad)):
    print("# " + b)
print("# %d system calls: %s" % (len(used), " ".join(sorted(used))))
sys.exit(1 if bad else 0)
