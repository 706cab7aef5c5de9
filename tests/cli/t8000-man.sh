#!/bin/sh
# Every built tool has a man page that lints clean, whose SYNOPSIS lists
# the same options as its --help, and which describes every option.
. "$(dirname "$0")/lib.sh"

lint() {	# mandoc -Tlint prints nothing for a clean page
	mandoc -Tlint -W warning "$1" >"$T/lint" 2>&1
	[ ! -s "$T/lint" ] || { cat "$T/lint" >&2; return 1; }
}

# Option words (-x, -hqv, --name) of a synopsis, sorted, one line.
optwords() {
	grep -o -- '\[-\{1,2\}[a-zA-Z0-9][a-zA-Z0-9-]*' | sed 's/^\[//' | sort -u | tr '\n' ' '
}

if ! command -v mandoc >/dev/null 2>&1; then
	skip "man pages" "mandoc is not installed"
	done_testing
fi

ok "ai-tools.7 lints clean" lint "$TOP/man/ai-tools.7"
for tool in "$BIN"/ai-*; do
	[ -x "$tool" ] || continue
	t=$(basename "$tool")
	page=$TOP/man/$t.1
	if [ ! -f "$page" ]; then
		_tap 0 "$t has a man page"
		continue
	fi
	ok "$t.1 lints clean" lint "$page"
	mandoc -Tascii -O width=300 "$page" | col -b >"$T/$t.txt"
	help=$("$tool" --help)
	want=$(printf '%s\n' "$help" |
	    awk 'NR == 1 || /^ / { print; next } { exit }' | optwords)
	got=$(awk '/^SYNOPSIS/ { f = 1; next } /^[A-Z]/ { f = 0 } f' "$T/$t.txt" | optwords)
	is "$got" "$want" "$t.1 SYNOPSIS lists the options of --help"
	missing=
	for o in $(printf '%s\n' "$help" | grep -o -- '^  -., --[a-z0-9-]*\|^      --[a-z0-9-]*' |
	    sed 's/.*--/--/'); do
		grep -q -- "$o" "$T/$t.txt" || missing="$missing $o"
	done
	is "$missing" "" "$t.1 describes every option in --help"
	for s in DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -q "^$s" "$T/$t.txt" || missing="$missing $s"
	done
	is "$missing" "" "$t.1 has DESCRIPTION, ENVIRONMENT, FILES, EXIT STATUS, EXAMPLES, SEE ALSO"
done
done_testing
