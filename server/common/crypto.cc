#include "server/common/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace noqueue::server {
namespace {

[[noreturn]] void CryptoFailed(const char* what) {
  std::fprintf(stderr, "noqueue-server: libcrypto failed: %s\n", what);
  std::abort();
}

// OpenSSL 3's one-shot calls (SHA256(), HMAC()) look their algorithm up by
// name every time, which costs several times the hashing of a short
// message (a schedule of 100 signs 100 attendee tokens): fetched once here.
const EVP_MD* Sha256Digest() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) CryptoFailed("no SHA256");
  return md;
}

// A thread's HMAC-SHA256 context, keyed with the last key it was given:
// attendee tokens are all signed with the one server secret, so the key's
// padding is hashed once, not once per token.
class KeyedHmac {
 public:
  KeyedHmac() {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) CryptoFailed("no HMAC");
    ctx_ = EVP_MAC_CTX_new(mac);
    if (ctx_ == nullptr) CryptoFailed("no HMAC context");
  }
  ~KeyedHmac() {
    EVP_MAC_CTX_free(ctx_);
    OPENSSL_cleanse(key_.data(), key_.size());
  }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  std::string Mac(absl::string_view key, absl::string_view data) {
    bool ok;
    if (keyed_ && key == key_) {
      ok = EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;  // the same key
    } else {
      OPENSSL_cleanse(key_.data(), key_.size());
      key_.assign(key.data(), key.size());
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end()};
      ok = EVP_MAC_init(ctx_,
                        reinterpret_cast<const unsigned char*>(key_.data()),
                        key_.size(), params) == 1;
      keyed_ = ok;
    }
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    size_t size = 0;
    ok = ok &&
         EVP_MAC_update(ctx_,
                        reinterpret_cast<const unsigned char*>(data.data()),
                        data.size()) == 1 &&
         EVP_MAC_final(ctx_, reinterpret_cast<unsigned char*>(out.data()),
                       &size, out.size()) == 1;
    if (!ok) CryptoFailed("HMAC-SHA256");
    out.resize(size);
    return out;
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  std::string key_;
  bool keyed_ = false;
};

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "noqueue-server: no random bytes from libcrypto\n");
    std::abort();
  }
  return out;
}

std::string Sha256(absl::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  if (EVP_Digest(data.data(), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), nullptr,
                 Sha256Digest(), nullptr) != 1) {
    CryptoFailed("SHA-256");
  }
  return out;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  thread_local KeyedHmac hmac;
  return hmac.Mac(key, data);
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Base64Url(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

std::optional<std::string> FromBase64Url(absl::string_view text) {
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  std::string out;
  if (!absl::WebSafeBase64Unescape(text, &out)) return std::nullopt;
  return out;
}

std::string Hex(absl::string_view bytes) {
  return absl::BytesToHexString(bytes);
}

}  // namespace noqueue::server
