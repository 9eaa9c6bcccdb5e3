#!/usr/bin/perl
# Writes a small MaxMind DB file for the tests (Debian: libmaxmind-db-writer-perl).
# Usage: write_mmdb.pl OUT DATABASE_TYPE SPEC
# SPEC has one network a line: "CIDR<TAB>country=DE" for Country/City-shaped records, or
# "CIDR<TAB>asn=64500<TAB>org=Example Hosting" for ASN-shaped ones (both may be combined).
# IPv4 networks are also reachable as IPv4-mapped IPv6, as in MaxMind's own files.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $type, $spec) = @ARGV;
die "usage: write_mmdb.pl OUT DATABASE_TYPE SPEC\n" unless defined $spec;

my %types = (
  country                        => 'map',
  iso_code                       => 'utf8_string',
  names                          => 'map',
  en                             => 'utf8_string',
  autonomous_system_number       => 'uint32',
  autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version               => 6,
  record_size              => 24,
  database_type            => $type,
  languages                => ['en'],
  description              => { en => 'seedscope test fixture' },
  map_key_type_callback    => sub { $types{ $_[0] } },
  alias_ipv6_to_ipv4       => 1,
  remove_reserved_networks => 0,
);
open my $in, '<', $spec or die "$spec: $!\n";
while (my $line = <$in>) {
  chomp $line;
  next if $line =~ /^\s*(#|$)/;
  my ($cidr, @fields) = split /\t/, $line;
  my %record;
  for my $f (@fields) {
    my ($k, $v) = split /=/, $f, 2;
    if ($k eq 'country') { $record{country} = { iso_code => $v, names => { en => $v } } }
    elsif ($k eq 'asn')  { $record{autonomous_system_number} = $v + 0 }
    elsif ($k eq 'org')  { $record{autonomous_system_organization} = $v }
    else { die "$spec: unknown field $k\n" }
  }
  $tree->insert_network($cidr, \%record);
}
close $in;
my $tmp = "$out.tmp$$";
open my $fh, '>:raw', $tmp or die "$tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$tmp: $!\n";
rename $tmp, $out or die "$out: $!\n"; # atomically, as geoipupdate replaces its files
