#!/bin/sh
# ai-prompt merges chunks by their byte offsets only where the offsets fit
# the texts.  ai-chunk's overlapping chunks of a document in several
# scripts, given in any order, merge back into the document's own bytes;
# the same chunks with offsets in characters, shifted a byte or two, or
# from an edited copy of the document never make invalid UTF-8 and lose
# no chunk's text.  The exact cases are golden (ai-prompt/merge-utf8).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/docs"
perl -e 'binmode STDOUT, ":utf8";
	for my $i (1 .. 40) {
		print "Ligne $i : le caf\x{e9} co\x{fb}te ", $i * 3, " \x{20ac}, ",
		    "\x{65e5}\x{672c}\x{8a9e}\x{306e}\x{6587}\x{66f8} $i, ",
		    "Gr\x{f6}\x{df}e ${i}\x{d7}", $i + 1, " \x{1f642}\n";
	}' >"$T/docs/doc.txt"
ai-chunk -q -s 60 -o 15 -u chars --no-tokens "$T/docs/doc.txt" >"$T/chunks"
ok "ai-chunk cut the document into overlapping chunks" \
    test "$?" -eq 0 -a "$(wc -l <"$T/chunks")" -ge 40

# The hits of one record per seed: every chunk, shuffled, with offsets
# as MODE says.
cat >"$T/hits.pl" <<'PERL'
use strict; use warnings; use JSON::PP; use Encode qw(encode decode);
my ($mode, $seeds) = @ARGV;
my $js = JSON::PP->new->utf8->canonical;
my @c = map { $js->decode($_) } <STDIN>;
for my $seed (1 .. $seeds) {
	srand($seed);
	my @h;
	for my $c (@c) {
		my %h = (id => $c->{id}, doc_id => $c->{doc_id},
		    text => $c->{text}, start => $c->{start}, end => $c->{end});
		my $len = length(encode('UTF-8', $c->{text}));
		my $how = $mode eq 'mixed' ? int(rand(4)) : 0;
		if ($how == 1) {	# in characters, as another tool counts
			$h{start} = $c->{cstart};
			$h{end} = $c->{cstart} + length($c->{text});
		} elsif ($how == 2) {	# shifted, the length right
			my $d = int(rand(5)) - 2;
			$h{start} += $d if $h{start} + $d >= 0;
			$h{end} = $h{start} + $len;
		} elsif ($how == 3) {	# from an edited copy: a character off
			my $t = $c->{text};
			my $k = int(rand(length($t)));
			substr($t, $k, 1) = "\x{e9}" if length($t) > 0;
			$h{text} = $t;
			$h{end} = $h{start} + length(encode('UTF-8', $t));
		}
		push @h, \%h;
	}
	for (my $i = $#h; $i > 0; $i--) {
		my $j = int(rand($i + 1));
		@h[$i, $j] = @h[$j, $i];
	}
	print $js->encode({ id => "r$seed", query => 'q', hits => \@h }), "\n";
}
PERL

# Character offsets of each chunk, for the mixed mode.
perl -MJSON::PP -MEncode=decode -ne '
	BEGIN { local $/; open(my $f, "<:raw", $ARGV[0]) or die; $d = <$f>;
	    shift @ARGV; $js = JSON::PP->new->utf8->canonical }
	my $r = $js->decode($_);
	$r->{cstart} = length(decode("UTF-8", substr($d, 0, $r->{start})));
	print $js->encode($r), "\n";' "$T/docs/doc.txt" <"$T/chunks" >"$T/chunks.c"

printf '%s\n' '--- user' '{{#passages}}' '{{start}} {{end}} {{text}}' '@@' \
    '{{/passages}}' >"$T/list.prompt"

# check MODE: every line valid UTF-8 and JSON, every hit's text inside a
# passage; with exact offsets, one passage, the document's bytes at its
# offsets.
cat >"$T/check.pl" <<'PERL'
use strict; use warnings; use JSON::PP; use Encode qw(decode encode);
my ($mode, $docf, $inf) = @ARGV;
my $d = do { local $/; open(my $f, '<:raw', $docf) or die; <$f> };
open(my $in, '<:raw', $inf) or die;
my $js = JSON::PP->new->utf8;
my (@bad, $n);
while (my $l = <STDIN>) {
	my $r = <$in>;
	$n++;
	unless (eval { decode('UTF-8', $l, Encode::FB_CROAK | Encode::LEAVE_SRC); 1 }) {
		push @bad, "line $n: invalid UTF-8";
		next;
	}
	my $o = $js->decode($l);
	my ($user) = grep { $_->{role} eq 'user' } @{$o->{messages}};
	my @p = map { [ /\A(\d*) (\d*) (.*)\z/s ] }
	    split /\n@@\n?/, encode('UTF-8', $user->{content});
	for my $h (@{$js->decode($r)->{hits}}) {
		my $t = encode('UTF-8', $h->{text});
		push @bad, "line $n: $h->{id}: text lost"
		    unless grep { index($_->[2], $t) >= 0 } @p;
	}
	next unless $mode eq 'exact';
	# ai-chunk's chunks overlap from the first byte to the last.
	push @bad, "line $n: " . scalar(@p) . " passages, want 1" if @p != 1;
	for my $p (@p) {
		my ($s, $e, $t) = @$p;
		if ($s eq '' || $e - $s != length($t) ||
		    substr($d, $s, $e - $s) ne $t) {
			push @bad, "line $n: passage at $s..$e is not the document's";
			next;
		}
		push @bad, "line $n: passages at $s..$e and $_->[0]..$_->[1] touch"
		    for grep { $_ != $p && $_->[0] <= $e && $_->[1] >= $s } @p;
	}
}
print "$_\n" for @bad[0 .. ($#bad < 9 ? $#bad : 9)];
exit(@bad || !$n ? 1 : 0);
PERL

for mode in exact mixed; do
	perl "$T/hits.pl" $mode 20 <"$T/chunks.c" >"$T/in.$mode"
	ai-prompt -t "$T/list.prompt" <"$T/in.$mode" >"$T/out" 2>"$T/err"
	is "$?:$(cat "$T/err")" "0:" "$mode offsets: status 0, no message"
	perl "$T/check.pl" $mode "$T/docs/doc.txt" "$T/in.$mode" <"$T/out" >"$T/bad"
	is "$?:$(cat "$T/bad")" "0:" "$mode offsets: valid UTF-8, no text lost$(
	    [ $mode = exact ] && echo ', passages are the document')"
done

# Within a budget, cut at token boundaries, in document order.
ai-prompt --tokenizer cl100k_base --max-tokens 400 --truncate --order document \
    <"$T/in.mixed" >"$T/out" 2>"$T/err"
is "$?:$(cat "$T/err")" "0:" "mixed offsets within a budget: status 0"
perl -MEncode -ne '$n++; eval { Encode::decode("UTF-8", $_, Encode::FB_CROAK); 1 }
	or print "line $n: invalid UTF-8\n"' "$T/out" >"$T/bad"
is "$(cat "$T/bad")" "" "mixed offsets within a budget: valid UTF-8"

done_testing
