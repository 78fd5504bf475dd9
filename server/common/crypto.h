// The few cryptographic primitives access control needs, from OpenSSL's
// libcrypto: random bytes, SHA-256, HMAC-SHA256, a comparison that takes the
// same time whatever the bytes, and URL-safe base64 without padding.
#ifndef NOQUEUE_SERVER_COMMON_CRYPTO_H_
#define NOQUEUE_SERVER_COMMON_CRYPTO_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace noqueue::server {

// `n` bytes from the operating system's generator (aborts if it fails: a
// server that cannot draw keys must not pretend to).
std::string RandomBytes(size_t n);

// Raw 32-byte digests.
std::string Sha256(absl::string_view data);
std::string HmacSha256(absl::string_view key, absl::string_view data);

// a == b, in time that depends only on their lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// RFC 4648 base64url without '=' padding, and back (nullopt when `text` is
// not base64url).
std::string Base64Url(absl::string_view bytes);
std::optional<std::string> FromBase64Url(absl::string_view text);

std::string Hex(absl::string_view bytes);

}  // namespace noqueue::server

#endif  // NOQUEUE_SERVER_COMMON_CRYPTO_H_
