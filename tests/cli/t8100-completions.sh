#!/bin/sh
# The completions in completions/ are in step with the tools' --help, and
# bash, zsh and fish each load them and offer every option and the fixed
# values of an option that has them.
. "$(dirname "$0")/lib.sh"

AI_BUILD=$BIN/.. sh "$TOP/completions/gen.sh" "$T/comp" 2>"$T/gen.err"
ok "completions/gen.sh runs" test ! -s "$T/gen.err"

for tool in "$BIN"/ai-*; do
	[ -x "$tool" ] || continue
	t=$(basename "$tool")
	fn=_$(echo "$t" | tr - _)
	for f in bash/$t zsh/_$t fish/$t.fish; do
		same_file "$TOP/completions/$f" "$T/comp/$f" \
		    "$f is in step with --help (make completions)"
	done
	want=$("$tool" --help | grep -o -- '^  -., --[a-z0-9-]*\|^      --[a-z0-9-]*' |
	    sed 's/.*--/--/' | sort | tr '\n' ' ')
	# An option with fixed values, and its values.
	vline=$("$tool" --help | grep -- '^ .*--[a-z0-9-]*=[A-Z]*  .*{.*}$' | head -1)
	vopt=$(printf '%s' "$vline" | grep -o -- '--[a-z0-9-]*' | head -1)
	vals=$(printf '%s' "$vline" | sed 's/.*{\(.*\)}$/\1/' | tr '|' '\n' | sort | tr '\n' ' ')

	got=$(bash -c '. "$1"; COMP_WORDS=("$2" --); COMP_CWORD=1; "$3";
	    printf "%s\n" "${COMPREPLY[@]}"' - "$T/comp/bash/$t" "$t" "$fn" |
	    sort | tr '\n' ' ')
	is "$got" "$want" "bash offers every option of $t"
	if [ -n "$vopt" ]; then
		got=$(bash -c '. "$1"; COMP_WORDS=("$2" "$4" ""); COMP_CWORD=2; "$3";
		    printf "%s\n" "${COMPREPLY[@]}"' - "$T/comp/bash/$t" "$t" "$fn" "$vopt" |
		    sort | tr '\n' ' ')
		is "$got" "$vals" "bash offers the values of $t $vopt"
	fi

	if command -v fish >/dev/null 2>&1; then
		got=$(fish --no-config -c "source '$T/comp/fish/$t.fish'; complete -C '$t --'" |
		    cut -f1 | sort | tr '\n' ' ')
		is "$got" "$want" "fish offers every option of $t"
		if [ -n "$vopt" ]; then
			got=$(fish --no-config -c "source '$T/comp/fish/$t.fish'; complete -C '$t $vopt '" |
			    cut -f1 | sort | tr '\n' ' ')
			is "$got" "$vals" "fish offers the values of $t $vopt"
		fi
	else
		skip "fish offers every option of $t" "fish is not installed"
	fi

	if command -v zsh >/dev/null 2>&1; then
		# zsh lists "--opt  -- description" in columns: every option of
		# --help must be among the words it shows (a description may
		# mention an option too, so this checks inclusion).
		timeout 20 zsh -f "$TOP/tests/cli/zsh-complete.zsh" "$T/comp/zsh" "$BIN" "$t --" |
		    tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
		    grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u >"$T/zsh.words"
		missing=
		for o in $want; do
			grep -qx -- "$o" "$T/zsh.words" || missing="$missing $o"
		done
		is "$missing" "" "zsh offers every option of $t"
	else
		skip "zsh offers every option of $t" "zsh is not installed"
	fi
done
done_testing
