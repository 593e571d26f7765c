#!/usr/bin/perl
# Holds real TCP sockets inside a network namespace for the benchmark. ESTABLISHED
# connections stay open with the server side left unaccepted in a large accept queue,
# so only the client side costs a file descriptor; TIME_WAIT sockets are made on demand.
# Perl (perl-base is Essential on Debian) because it holds many raw fds cheaply.
# Commands, one per line on stdin; each answers one line, `ok <n>` or `error <why>`:
#   listen <family 4|6> <address> <port> <backlog>
#   hold <family> <source,source,...> <address> <port> <count>
#   timewait <family> <source,source,...> <address> <port> <count> <max seconds>
# At end of input every socket is closed with SO_LINGER 0 (a reset: no TIME_WAIT, no
# orphans) and the holder exits.
use strict;
use warnings;
use Socket qw(AF_INET AF_INET6 SOCK_STREAM SOL_SOCKET SO_REUSEADDR SO_LINGER
  IPPROTO_IPV6 IPV6_V6ONLY inet_pton pack_sockaddr_in pack_sockaddr_in6);

$| = 1;
my %listeners;
my @held;
# Next source port per source address: each client binds its own (address, port), so
# connect() never searches the port range and no 4-tuple repeats. A port bound this way
# is skipped by every connect() that lets the kernel choose, whatever the address, so
# the top of the default ephemeral range (55000-60999) stays free for scrapes.
my %next_port;
my $FIRST_PORT = 1024;
my $LAST_PORT = 54999;

sub address {
  my ($family, $ip, $port) = @_;
  return $family == 6
    ? pack_sockaddr_in6($port, inet_pton(AF_INET6, $ip))
    : pack_sockaddr_in($port, inet_pton(AF_INET, $ip));
}

sub new_socket {
  my ($family) = @_;
  my $fh;
  socket($fh, $family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
  return $fh;
}

# One client connected from the next unused (source, port); undef when all are spent.
sub connect_client {
  my ($family, $sources, $destination) = @_;
  for my $source (@$sources) {
    my $port = $next_port{$source} // $FIRST_PORT;
    next if $port > $LAST_PORT;
    $next_port{$source} = $port + 1;
    my $fh = new_socket($family);
    bind($fh, address($family, $source, $port)) or die "bind $source:$port: $!\n";
    connect($fh, $destination) or die "connect: $!\n";
    return $fh;
  }
  return undef;
}

my %commands = (
  listen => sub {
    my ($family, $ip, $port, $backlog) = @_;
    my $fh = new_socket($family);
    setsockopt($fh, SOL_SOCKET, SO_REUSEADDR, 1) or die "SO_REUSEADDR: $!\n";
    if ($family == 6) {
      setsockopt($fh, IPPROTO_IPV6, IPV6_V6ONLY, 1) or die "IPV6_V6ONLY: $!\n";
    }
    bind($fh, address($family, $ip, $port)) or die "bind $ip:$port: $!\n";
    listen($fh, $backlog) or die "listen: $!\n";
    $listeners{"$family $ip $port"} = $fh;
    return 1;
  },
  hold => sub {
    my ($family, $sources, $ip, $port, $count) = @_;
    my @sources = split /,/, $sources;
    my $destination = address($family, $ip, $port);
    for my $made (0 .. $count - 1) {
      my $fh = connect_client($family, \@sources, $destination)
        // die "sources spent after $made connections\n";
      push @held, $fh;
    }
    return $count;
  },
  # The client closes first, so the client side ends in TIME_WAIT; the server side is
  # accepted and closed at once. Stops early at the deadline and says how many it made.
  timewait => sub {
    my ($family, $sources, $ip, $port, $count, $max_seconds) = @_;
    my @sources = split /,/, $sources;
    my $listener = $listeners{"$family $ip $port"} // die "no listener on $ip:$port\n";
    my $destination = address($family, $ip, $port);
    my $deadline = time + $max_seconds;
    my $made = 0;
    while ($made < $count) {
      last if $made % 1000 == 0 && time >= $deadline;
      my $client = connect_client($family, \@sources, $destination)
        // die "sources spent after $made connections\n";
      my $server;
      accept($server, $listener) or die "accept: $!\n";
      close($client);
      close($server);
      $made++;
    }
    return $made;
  },
);

while (my $line = <STDIN>) {
  chomp $line;
  my ($name, @args) = split ' ', $line;
  my $command = defined $name ? $commands{$name} : undef;
  if (!$command) {
    print "error unknown command\n";
    next;
  }
  my $result = eval { $command->(@args) };
  if (defined $result) {
    print "ok $result\n";
  } else {
    my $why = $@;
    $why =~ s/\s+$//;
    print "error $why\n";
  }
}

my $reset = pack('ii', 1, 0);
for my $fh (@held, values %listeners) {
  setsockopt($fh, SOL_SOCKET, SO_LINGER, $reset);
  close($fh);
}
