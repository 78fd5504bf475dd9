// The cryptographic primitives of access control against published vectors
// (FIPS 180-2, RFC 4231).
#include "server/common/crypto.h"

#include <catch2/catch.hpp>
#include <string>

namespace noqueue::server {
namespace {

TEST_CASE("Sha256 gives the FIPS 180-2 digest of abc") {
  CHECK(Hex(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("HmacSha256 gives RFC 4231's MACs whatever key came before") {
  const std::string key1(20, '\x0b'), key6(131, '\xaa');
  const char kMac1[] =
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
  const char kMac2[] =
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  const char kMac6[] =
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  // Twice each, keys alternating: a key kept from one call must neither
  // leak into the next nor change a repeated one.
  for (int round = 0; round < 2; ++round) {
    CHECK(Hex(HmacSha256(key1, "Hi There")) == kMac1);
    CHECK(Hex(HmacSha256(key1, "Hi There")) == kMac1);
    CHECK(Hex(HmacSha256("Jefe", "what do ya want for nothing?")) == kMac2);
    CHECK(
        Hex(HmacSha256(
            key6, "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        kMac6);
  }
}

}  // namespace
}  // namespace noqueue::server
