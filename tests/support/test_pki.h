// A throwaway certificate authority for the TLS tests, made with the openssl
// command line.
#ifndef NOQUEUE_TESTS_SUPPORT_TEST_PKI_H_
#define NOQUEUE_TESTS_SUPPORT_TEST_PKI_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace noqueue::testing {

// Whether the openssl command is installed (tests of TLS skip without it).
inline bool HaveOpenssl() {
  return std::system("command -v openssl >/dev/null") == 0;
}

// Writes into `dir` a CA (ca.pem, ca.key), a server certificate for
// 127.0.0.1 signed by it (server.pem, server.key) and a client certificate
// (client.pem, client.key); false when openssl fails.
inline bool MakeTestPki(const std::string& dir) {
  const std::string script =
      "cd " + dir +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
      "-subj /CN=noqueue-test-ca -keyout ca.key -out ca.pem 2>/dev/null"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
      "-keyout server.key -out server.csr 2>/dev/null"
      " && printf 'subjectAltName=IP:127.0.0.1' > san.ext"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 1 -extfile san.ext -out server.pem 2>/dev/null"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=gate-1 "
      "-keyout client.key -out client.csr 2>/dev/null"
      " && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 1 -out client.pem 2>/dev/null";
  return std::system(script.c_str()) == 0;
}

// The whole of a file.
inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace noqueue::testing

#endif  // NOQUEUE_TESTS_SUPPORT_TEST_PKI_H_
