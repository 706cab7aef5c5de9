#!/bin/sh
# make install puts binaries, man pages, completions, data and examples
# under DESTDIR/PREFIX, and make uninstall removes exactly them.
. "$(dirname "$0")/lib.sh"

case $AI_BUILD in /*) build=$AI_BUILD ;; *) build=$TOP/$AI_BUILD ;; esac
root=$T/root
ok "make install DESTDIR=..." make -s -C "$TOP" BUILD="$build" \
    DESTDIR="$root" PREFIX=/opt/ai install
for t in "$BIN"/ai-*; do
	t=$(basename "$t")
	for f in bin/$t share/man/man1/$t.1 \
	    share/bash-completion/completions/$t \
	    share/zsh/site-functions/_$t \
	    share/fish/vendor_completions.d/$t.fish; do
		test -f "$root/opt/ai/$f"
		is $? 0 "installed $f"
	done
done
test -f "$root/opt/ai/share/man/man7/ai-tools.7"
is $? 0 "installed ai-tools.7"
test -x "$root/opt/ai/share/ai-tools/examples/demo.sh"
is $? 0 "installed the examples"
ls "$root/opt/ai/share/ai-tools/tokenizers/"*.tiktoken >/dev/null 2>&1
is $? 0 "installed the tokenizer rank files"
ok "make uninstall" make -s -C "$TOP" BUILD="$build" DESTDIR="$root" \
    PREFIX=/opt/ai uninstall
left=$(find "$root" -type f | sed "s|^$root||")
is "$left" "" "uninstall removes every file install put down"
done_testing
