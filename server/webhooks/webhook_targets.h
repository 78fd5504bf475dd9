// Where webhooks may be delivered: public addresses only, unless the
// operator allows private ones (--webhook_private_targets: tests, or a
// receiver on the venue's own network).
//
// A VENUE_MANAGER chooses a webhook's URL; without this rule the server
// would POST, from inside its network, to its own metrics port, to a cloud
// metadata service (169.254.169.254) or to any RFC 1918 host, and the
// delivery's outcome would tell which ports answer. The URL's text is
// checked when the webhook is made (every spelling of an address the
// resolver accepts: 2130706433, 0x7f.1, 0177.0.0.1, ::ffff:127.0.0.1), and
// the address a name resolves to is checked again when each connection is
// opened, so that a name pointing (or re-pointed) inside is refused too.
#ifndef NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_TARGETS_H_
#define NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_TARGETS_H_

#include <sys/socket.h>

#include <optional>
#include <string>

namespace noqueue::server {

// Whether `address` (AF_INET or AF_INET6) is a public unicast address: not
// loopback, unspecified, private (RFC 1918, fc00::/7, 100.64/10), link-local,
// multicast, reserved or documentation, nor an IPv6 form of such an IPv4
// address (mapped, compatible, NAT64).
bool IsPublicAddress(const sockaddr* address);

// Whether `host` is a loopback address literal (127.0.0.0/8, ::1, or
// ::ffff:127.x.y.z; brackets allowed), read by inet_pton: a name is not one.
bool IsLoopbackAddress(const std::string& host);

// `host` read as an address literal the way the resolver reads it (IPv4 in
// any of inet_aton's forms, IPv6 with or without brackets): whether it is
// public; nullopt when `host` is a name, not an address.
std::optional<bool> IsPublicAddressLiteral(const std::string& host);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_WEBHOOKS_WEBHOOK_TARGETS_H_
