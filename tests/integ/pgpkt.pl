#!/usr/bin/perl
# pgpkt.pl: a small OpenPGP packet walker for the tests (framing only).
#
#   pgpkt.pl tags FILE           the packet tags, one line: "6 13 2 14 2"
#   pgpkt.pl strip-uids IN OUT   drop UID and attribute packets and the
#                                signatures that follow them
#   pgpkt.pl secrets FILE        hex of the last 34 bytes of each secret
#                                (sub)key packet: its secret MPI and checksum
#   pgpkt.pl hexvals             stdin: mdb_dump output; stdout: each value
#                                decoded, as "tags" would print it
#   pgpkt.pl contains FILE HEX   exit 0 if FILE's bytes contain HEX
#   pgpkt.pl corrupt IN OUT N... flip the last byte of packets N (from 0):
#                                for a signature, that breaks it
#   pgpkt.pl served FILE         exit 0 if FILE is a blob WKD may serve
#                                (binary, or a public key block armored):
#                                OpenPGP packets that parse, no secret
#                                (sub)key packet, exactly one User ID per
#                                certificate (a revoked predecessor is a
#                                certificate of its own), 256 KiB at most;
#                                else exit 1 and say why on stdout
use strict;
use warnings;

sub slurp {
	my ($f) = @_;
	open(my $fh, '<:raw', $f) or die "$f: $!\n";
	local $/;
	my $d = <$fh>;
	return defined $d ? $d : '';
}

# Returns a list of [tag, header+body bytes, body].
sub packets {
	my ($d) = @_;
	my @p;
	my $i = 0;
	while ($i < length($d)) {
		my $start = $i;
		my $h = ord(substr($d, $i++, 1));
		die "not a packet header at $start\n" unless $h & 0x80;
		my ($tag, $len);
		if ($h & 0x40) {
			$tag = $h & 0x3f;
			my $o = ord(substr($d, $i++, 1));
			if ($o < 192) { $len = $o; }
			elsif ($o < 224) {
				$len = (($o - 192) << 8) + ord(substr($d, $i++, 1)) + 192;
			} elsif ($o == 255) {
				$len = unpack('N', substr($d, $i, 4)); $i += 4;
			} else { die "partial lengths not supported\n"; }
		} else {
			$tag = ($h >> 2) & 0x0f;
			my $lt = $h & 3;
			if ($lt == 0) { $len = ord(substr($d, $i, 1)); $i += 1; }
			elsif ($lt == 1) { $len = unpack('n', substr($d, $i, 2)); $i += 2; }
			elsif ($lt == 2) { $len = unpack('N', substr($d, $i, 4)); $i += 4; }
			else { die "indeterminate length not supported\n"; }
		}
		die "truncated packet at $start\n" if $i + $len > length($d);
		push @p, [$tag, substr($d, $start, $i + $len - $start),
		    substr($d, $i, $len)];
		$i += $len;
	}
	return @p;
}

my $cmd = shift @ARGV // '';
if ($cmd eq 'tags') {
	print join(' ', map { $_->[0] } packets(slurp($ARGV[0]))), "\n";
} elsif ($cmd eq 'strip-uids') {
	my $skip = 0;
	my $o = '';
	for my $p (packets(slurp($ARGV[0]))) {
		if ($p->[0] == 13 || $p->[0] == 17) { $skip = 1; next; }
		if ($p->[0] != 2) { $skip = 0; }
		$o .= $p->[1] unless $skip;
	}
	open(my $fh, '>:raw', $ARGV[1]) or die "$ARGV[1]: $!\n";
	print $fh $o;
} elsif ($cmd eq 'secrets') {
	for my $p (packets(slurp($ARGV[0]))) {
		next unless $p->[0] == 5 || $p->[0] == 7;
		print unpack('H*', substr($p->[2], -34)), "\n";
	}
} elsif ($cmd eq 'hexvals') {
	# mdb_dump: after HEADER=END, records alternate key line, value line.
	my ($inhdr, $k) = (1, 1);
	while (my $l = <STDIN>) {
		chomp $l;
		if ($inhdr) { $inhdr = 0 if $l eq 'HEADER=END'; next; }
		if ($l eq 'DATA=END') { $inhdr = 1; $k = 1; next; }
		$l =~ s/^ //;
		if ($k) { $k = 0; next; }
		$k = 1;
		my @t = eval { map { $_->[0] } packets(pack('H*', $l)) };
		print @t ? join(' ', @t) : 'unparsed', "\n";
	}
} elsif ($cmd eq 'corrupt') {
	my ($in, $outf, @idx) = @ARGV;
	my %bad = map { $_ => 1 } @idx;
	my ($i, $o) = (0, '');
	for my $p (packets(slurp($in))) {
		my $b = $p->[1];
		substr($b, -1, 1) = chr(ord(substr($b, -1, 1)) ^ 0x01) if $bad{$i};
		$o .= $b;
		$i++;
	}
	open(my $fh, '>:raw', $outf) or die "$outf: $!\n";
	print $fh $o;
} elsif ($cmd eq 'served') {
	my $d = slurp($ARGV[0]);
	my @why;
	# Armored (the page's /lookup.asc): a public key block, dearmored.
	if ($d =~ /^-----BEGIN PGP ([A-Z ]+)-----\r?\n/) {
		my $kind = $1;
		if ($kind ne 'PUBLIC KEY BLOCK') {
			print "armored $kind, not a public key block\n";
			exit 1;
		}
		my ($body) = $d =~ /\r?\n\r?\n(.*?)^=/sm;
		$body = '' unless defined $body;
		$body =~ s/\s+//g;
		require MIME::Base64;
		$d = MIME::Base64::decode_base64($body);
	}
	push @why, 'empty' if $d eq '';
	push @why, length($d) . ' bytes (over 256 KiB)' if length($d) > 262144;
	my @p = eval { packets($d) };
	push @why, "not OpenPGP packets: $@" if $@;
	chomp @why;
	my ($certs, @uids) = (0);
	for my $p (@p) {
		my $t = $p->[0];
		push @why, "secret key packet (tag $t)" if $t == 5 || $t == 7;
		if ($t == 6 || $t == 5) { $certs++; push @uids, 0; }
		elsif ($t == 13) {
			if (@uids) { $uids[-1]++; }
			else { push @why, 'User ID before any primary key'; }
		}
	}
	push @why, 'no certificate (no primary key packet)'
	    if !$@ && @p && !$certs;
	for my $i (0 .. $#uids) {
		push @why, "certificate $i has $uids[$i] User IDs, not 1"
		    if $uids[$i] != 1;
	}
	if (@why) { print join('; ', @why), "\n"; exit 1; }
} elsif ($cmd eq 'contains') {
	my $needle = pack('H*', $ARGV[1]);
	exit(index(slurp($ARGV[0]), $needle) >= 0 ? 0 : 1);
} else {
	die "usage: pgpkt.pl tags|strip-uids|secrets|hexvals|contains|corrupt|served ...\n";
}
