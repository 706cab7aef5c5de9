#!/bin/sh
# ai-chunk over the whole sample corpus (every file in examples/corpus),
# every strategy, both units: document bytes [start, end) == text, the
# hash is the text's sha256, no chunk over the size, the overlap exact
# (in characters), ids DOCID#SEQ in order, lines right, and the same
# output twice.
. "$(dirname "$0")/lib.sh"

corpus=$TOP/examples/corpus
cat >"$T/check.pl" <<'PERL'
use strict; use warnings; use JSON::PP; use Digest::SHA qw(sha256_hex);
use Encode qw(encode decode);
my ($size, $ov, $unit) = @ARGV;
my $js = JSON::PP->new->utf8;
my (%doc, $prev, @bad);
my $n = 0;
while (my $l = <STDIN>) {
	my $r = $js->decode($l);
	$n++;
	my $src = $r->{meta}{source};
	unless (exists $doc{$src}) {
		open(my $f, '<:raw', $src) or die "$src: $!";
		local $/; $doc{$src} = <$f>;
	}
	my $d = $doc{$src};
	my $t = encode('UTF-8', $r->{text});
	my $id = $r->{id};
	push @bad, "$id: bytes differ"
	    if substr($d, $r->{start}, $r->{end} - $r->{start}) ne $t;
	push @bad, "$id: hash" if sha256_hex($t) ne $r->{hash};
	my $len = $unit eq 'chars' ? length($r->{text}) : $r->{tokens};
	push @bad, "$id: $len $unit" if $len > $size;
	push @bad, "$id: id" if $id ne "$r->{doc_id}#$r->{seq}";
	my $first = 1 + (substr($d, 0, $r->{start}) =~ tr/\n//);
	my $last = 1 + (substr($d, 0, $r->{end} - 1) =~ tr/\n//);
	push @bad, "$id: lines" if "@{$r->{meta}{lines}}" ne "$first $last";
	if ($prev && $prev->{doc_id} eq $r->{doc_id}) {
		push @bad, "$id: seq" if $r->{seq} != $prev->{seq} + 1;
		push @bad, "$id: order" if $r->{start} <= $prev->{start} ||
		    $r->{end} <= $prev->{end};
		if ($unit eq 'chars' && $r->{start} < $prev->{end}) {
			my $o = length(decode('UTF-8', substr($d, $r->{start},
			    $prev->{end} - $r->{start})));
			push @bad, "$id: overlap $o" if $o != $ov;
		}
	} else {
		push @bad, "$id: first seq" if $r->{seq} != 0;
	}
	$prev = $r;
}
print "$_\n" for @bad[0 .. ($#bad < 9 ? $#bad : 9)];
print "no chunks\n" if $n == 0;
exit(@bad || $n == 0 ? 1 : 0);
PERL

check() {	# check NAME SIZE OVERLAP UNIT ai-chunk-args...
	_n=$1 _s=$2 _o=$3 _u=$4
	shift 4
	if ai-chunk -q -s "$_s" -o "$_o" -u "$_u" "$@" "$corpus" >"$T/out" 2>"$T/err" &&
	    perl "$T/check.pl" "$_s" "$_o" "$_u" <"$T/out" >"$T/bad"; then
		_tap 1 "$_n"
	else
		_tap 0 "$_n"
		cat "$T/err" "$T/bad" | head -10 | _diag
	fi
}

for by in recursive tokens sentences markdown lines code auto; do
	check "$by, 60 tokens, overlap 10" 60 10 tokens --by "$by"
	check "$by, 300 chars, overlap 50" 300 50 chars --by "$by"
done
check "recursive, 1000 chars, overlap 200, min-size 100" 1000 200 chars \
    --min-size 100
check "recursive, 25 chars, no overlap" 25 0 chars
check "tokens, 7 tokens, overlap 6" 7 6 tokens --by tokens

# Every file of the corpus is chunked.
ai-chunk -q "$corpus" | perl -MJSON::PP -ne \
    'print JSON::PP->new->decode($_)->{doc_id}, "\n"' | uniq >"$T/docs"
(cd "$TOP" && find examples/corpus -type f ! -name '.*' ! -size 0 | sort) \
    >"$T/files"
(cd "$TOP" && ai-chunk -q examples/corpus) | perl -MJSON::PP -ne \
    'print JSON::PP->new->decode($_)->{doc_id}, "\n"' | uniq >"$T/docs"
same_file "$T/docs" "$T/files" "every file, in sorted order, is a document"

# Deterministic: byte-identical output.
ai-chunk -q --by markdown -s 50 -o 5 "$corpus" >"$T/a"
ai-chunk -q --by markdown -s 50 -o 5 "$corpus" >"$T/b"
same_file "$T/a" "$T/b" "the same input gives the same output"

if ai-chunk -t cl100k_base --count --text </dev/null >/dev/null 2>&1; then
	check "cl100k_base, recursive, 60 tokens" 60 10 tokens -t cl100k_base
	check "o200k_base, markdown, 40 tokens" 40 8 tokens -t o200k_base \
	    --by markdown
	check "cl100k_base, tokens, 16 tokens" 16 4 tokens -t cl100k_base \
	    --by tokens
else
	skip "cl100k_base" "the exact encodings are not available"
fi
done_testing
