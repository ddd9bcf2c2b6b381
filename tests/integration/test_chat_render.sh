#!/bin/sh
# `agentinfer chat-render`: exact output (no newline added) for a hand-checked
# template, exit 2 with one stderr line when the template raises or the input
# is bad, exit 1 on usage errors; with fixtures, the Qwen3 template embedded
# in vocab-qwen3.gguf (-m) renders the expected.jsonl records byte for byte,
# and so does every record through --template.
set -u
AI_BIN=${AI_BIN:-build/bin/agentinfer}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# --- a template file; output checked against Python Jinja2 (HF settings) -----
cat > "$tmp/t.jinja" <<'EOF'
{{ bos_token }}
{%- for m in messages %}
  {%- if m.role == 'system' %}[S]{{ m.content | trim }}
  {% else %}[{{ m.role | upper }}]{{ m.content }}
  {% endif %}
{% endfor %}
{%- if add_generation_prompt %}[ASSISTANT]{% endif %}
EOF
printf '%s' '[{"role":"system","content":"  be brief  "},{"role":"user","content":"héllo"}]' > "$tmp/m.json"
"$AI_BIN" chat-render --template "$tmp/t.jinja" --bos '<s>' --messages "$tmp/m.json" > "$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || bad "render: exit $rc: $(cat "$tmp/err")"
printf '<s>[S]be brief\n[USER]héllo\n[ASSISTANT]' > "$tmp/want"
cmp -s "$tmp/out" "$tmp/want" || bad "render: got [$(cat "$tmp/out")]"
"$AI_BIN" chat-render --template "$tmp/t.jinja" --messages "$tmp/m.json" --no-generation-prompt > "$tmp/out" 2>"$tmp/err"
printf '[S]be brief\n[USER]héllo\n' > "$tmp/want"
cmp -s "$tmp/out" "$tmp/want" || bad "--no-generation-prompt: got [$(cat "$tmp/out")]"

# messages from standard input, extra variables, pinned clock
printf '%s' '{{ strftime_now("%d %b %Y") }} {{ who }}' > "$tmp/v.jinja"
printf '%s' '{"who": "me"}' > "$tmp/vars.json"
out=$(printf '[]' | "$AI_BIN" chat-render --template "$tmp/v.jinja" --messages - --vars "$tmp/vars.json" --time 1768435200)
[ "$out" = "15 Jan 2026 me" ] || bad "--vars/--time: got [$out]"

# --- failures ------------------------------------------------------------------
expect_exit() { # description, status, command...
    d=$1; want=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq "$want" ] || bad "$d: exit $rc, expected $want"
    if [ "$want" -eq 2 ]; then
        [ "$(wc -l < "$tmp/err")" -eq 1 ] || bad "$d: stderr is not one line: $(cat "$tmp/err")"
        [ -s "$tmp/out" ] && bad "$d: printed to stdout"
    fi
}
printf '%s\n' 'line one' '{{ raise_exception("no\nway") }}' > "$tmp/raise.jinja"
expect_exit "raise_exception" 2 "$AI_BIN" chat-render --template "$tmp/raise.jinja" --messages "$tmp/m.json"
grep -q 'line 2: raise_exception: no way' "$tmp/err" || bad "raise_exception: stderr is [$(cat "$tmp/err")]"
printf '{%% for x in messages %%}' > "$tmp/unclosed.jinja"
expect_exit "unclosed for" 2 "$AI_BIN" chat-render --template "$tmp/unclosed.jinja" --messages "$tmp/m.json"
grep -q 'line 1' "$tmp/err" || bad "unclosed for: no line number in [$(cat "$tmp/err")]"
printf '[{"role": "user",' > "$tmp/broken.json"
expect_exit "malformed messages" 2 "$AI_BIN" chat-render --template "$tmp/t.jinja" --messages "$tmp/broken.json"
expect_exit "messages not a list" 2 "$AI_BIN" chat-render --template "$tmp/t.jinja" --messages "$tmp/vars.json"
expect_exit "missing file" 2 "$AI_BIN" chat-render --template "$tmp/t.jinja" --messages "$tmp/nope.json"
expect_exit "no template or model" 1 "$AI_BIN" chat-render --messages "$tmp/m.json"
expect_exit "unknown option" 1 "$AI_BIN" chat-render --bogus
expect_exit "missing value" 1 "$AI_BIN" chat-render --messages

# --- fixtures -------------------------------------------------------------------
F=${AI_FIXTURES:-}
if [ -n "$F" ] && [ -d "$F/templates" ] && command -v python3 >/dev/null 2>&1; then
    # Every expected.jsonl record through the program: --template with the
    # record's bos/eos, and -m for the Qwen3 records (the GGUF carries the same
    # template text).
    python3 - "$F" "$AI_BIN" "$tmp" <<'EOF' || fail=1
import json, subprocess, sys
F, B, T = sys.argv[1:4]
convs = {c["id"]: c for c in json.load(open(F + "/templates/conversations-shared.json"))["conversations"]}
bad = n = 0
for line in open(F + "/templates/expected.jsonl", encoding="utf-8"):
    r = json.loads(line)
    c = convs[r["conversation"]]
    json.dump(c["messages"], open(T + "/msgs.json", "w"), ensure_ascii=False)
    json.dump(c["tools"], open(T + "/tools.json", "w"), ensure_ascii=False)
    runs = [["--template", F + "/templates/" + r["template"], "--bos", r["bos_token"], "--eos", r["eos_token"]]]
    if r["template"] == "Qwen-Qwen3-0.6B.jinja":
        runs.append(["-m", F + "/vocab/vocab-qwen3.gguf"])
    for how in runs:
        args = [B, "chat-render", *how, "--messages", T + "/msgs.json", "--tools", T + "/tools.json",
                "--time", "1768435200"]
        if not r["add_generation_prompt"]:
            args.append("--no-generation-prompt")
        p = subprocess.run(args, capture_output=True)
        n += 1
        if "expected" in r:
            ok = p.returncode == 0 and p.stdout == r["expected"].encode()
        else:
            ok = p.returncode == 2 and p.stdout == b"" and p.stderr.count(b"\n") == 1
        if not ok:
            bad += 1
            print("FAIL: %s/%s (%s): exit %d %s" % (r["template"], r["conversation"], how[0], p.returncode,
                                                   p.stderr.decode()[:200]))
print("chat-render: %d/%d fixture runs match" % (n - bad, n))
sys.exit(1 if bad else 0)
EOF
fi
exit $fail
