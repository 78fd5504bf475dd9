#include "server/webhooks/webhook_targets.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace noqueue::server {
namespace {

// An IPv4 address (host order) in `base`/`bits`.
bool In(uint32_t a, uint32_t base, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (base & mask);
}

bool IsPublicV4(uint32_t a) {
  static constexpr struct {
    uint32_t base;
    int bits;
  } kNotPublic[] = {
      {0x00000000, 8},   // "this network"
      {0x0a000000, 8},   // RFC 1918
      {0x64400000, 10},  // carrier-grade NAT
      {0x7f000000, 8},   // loopback
      {0xa9fe0000, 16},  // link-local (cloud metadata services)
      {0xac100000, 12},  // RFC 1918
      {0xc0000000, 24},  // IETF protocol assignments
      {0xc0000200, 24},  // documentation
      {0xc0586300, 24},  // 6to4 relay anycast
      {0xc0a80000, 16},  // RFC 1918
      {0xc6120000, 15},  // benchmarking
      {0xc6336400, 24},  // documentation
      {0xcb007100, 24},  // documentation
      {0xe0000000, 4},   // multicast
      {0xf0000000, 4},   // reserved, broadcast
  };
  for (const auto& range : kNotPublic) {
    if (In(a, range.base, range.bits)) return false;
  }
  return true;
}

uint32_t V4At(const uint8_t* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
         uint32_t{bytes[2]} << 8 | bytes[3];
}

bool IsPublicV6(const in6_addr& a) {
  const uint8_t* b = a.s6_addr;
  static constexpr uint8_t kZero[12] = {};
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b};
  // ::a.b.c.d, ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach an IPv4 address
  // (:: and ::1 included, as 0.0.0.0/8).
  if (std::memcmp(b, kZero, 12) == 0 || std::memcmp(b, kMapped, 12) == 0 ||
      std::memcmp(b, kNat64, 12) == 0) {
    return IsPublicV4(V4At(b + 12));
  }
  if ((b[0] & 0xfe) == 0xfc) return false;                  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10
  if (b[0] == 0xff) return false;                           // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) {
    return false;  // documentation
  }
  if (b[0] == 0x20 && b[1] == 0x02) {  // 6to4: the IPv4 address it carries
    return IsPublicV4(V4At(b + 2));
  }
  return true;
}

}  // namespace

bool IsPublicAddress(const sockaddr* address) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    return IsPublicV4(ntohl(v4->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return IsPublicV6(
        reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return false;
}

bool IsLoopbackAddress(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) ||
           (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  return false;
}

std::optional<bool> IsPublicAddressLiteral(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    h = h.substr(1, h.size() - 2);
  }
  if (const size_t zone = h.find('%'); zone != std::string::npos) {
    h.resize(zone);  // fe80::1%eth0
  }
  // inet_aton, as the resolver: "2130706433", "0x7f.1", "0177.0.0.1".
  in_addr v4;
  if (inet_aton(h.c_str(), &v4) != 0) return IsPublicV4(ntohl(v4.s_addr));
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IsPublicV6(v6);
  return std::nullopt;
}

}  // namespace noqueue::server
