# tests/cli/zsh-complete.zsh FPATHDIR BINDIR LINE - type LINE and a TAB into an
# interactive zsh in a pseudo-terminal (zpty) with the completions in
# FPATHDIR, and print what the terminal showed.  Used by t8100.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PATH=$2:\$PATH"
sleep 0.5
zpty -w -n z "$3"$'\t'
out=
integer i
for (( i = 0; i < 30; i++ )); do
	sleep 0.1
	while zpty -r -t z chunk; do out+=$chunk; done
done
print -r -- "$out"
zpty -d z
