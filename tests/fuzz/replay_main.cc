// A libFuzzer harness run without libFuzzer, as a test: every seed of its
// corpus (gzipped seeds unpacked), then inputs made from the seeds by random
// byte edits (a fixed seed, so a failure replays), until --mutations inputs
// or --max_seconds. An input that breaks a harness's promise aborts, as it
// does under libFuzzer; in the sanitizer pass an ASan or UBSan report fails
// the test too. The input that failed is written to ./crash-<harness> (in the
// test's build folder), to replay with the harness alone. Coverage-guided
// fuzzing is scripts/fuzz.sh's (clang).
//
//   csv_fuzzer tests/fuzz/corpus/csv_fuzzer --mutations=5000 --max_seconds=5
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// The input being run, and where it goes if it aborts.
std::string g_input;
std::string g_crash_path;

void WriteCrash(int sig) {
  std::FILE* f = std::fopen(g_crash_path.c_str(), "wb");
  if (f != nullptr) {
    std::fwrite(g_input.data(), 1, g_input.size(), f);
    std::fclose(f);
    std::fprintf(stderr, "the input is in %s\n", g_crash_path.c_str());
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// A seed file's bytes, unpacked when it ends with .gz.
std::string ReadSeed(const std::filesystem::path& path) {
  if (path.extension() == ".gz") {
    std::string out;
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return out;
    char buf[1 << 16];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, n);
    gzclose(f);
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Run(const std::string& input) {
  g_input = input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(g_input.data()),
                         g_input.size());
}

// One to eight random edits of `s`: a bit flipped, a byte set to a random or
// a boundary value, a byte inserted or erased, a piece repeated, the end cut.
std::string Mutate(std::string s, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    const size_t at = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 7) {
      case 0:
        if (!s.empty()) s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8)));
        break;
      case 1:
        if (!s.empty()) s[at] = static_cast<char>(rng());
        break;
      case 2: {
        static constexpr unsigned char kBoundary[] = {0x00, 0x01, 0x7f,
                                                      0x80, 0xfe, 0xff};
        if (!s.empty()) s[at] = static_cast<char>(kBoundary[rng() % 6]);
        break;
      }
      case 3:
        s.insert(s.begin() + static_cast<long>(at), static_cast<char>(rng()));
        break;
      case 4:
        if (!s.empty()) s.erase(at, 1);
        break;
      case 5:
        if (!s.empty() && s.size() < (1 << 20)) {
          const size_t n = 1 + rng() % std::min<size_t>(64, s.size() - at);
          s.insert(at, s.substr(at, n));
        }
        break;
      case 6:
        s.resize(at);
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  g_crash_path = "crash-" + std::filesystem::path(argv[0]).filename().string();
  std::signal(SIGABRT, WriteCrash);
  std::signal(SIGSEGV, WriteCrash);
  std::vector<std::filesystem::path> paths;
  long mutations = 1000;
  double max_seconds = 10;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::atol(arg.c_str() + 12);
    } else if (arg.rfind("--max_seconds=", 0) == 0) {
      max_seconds = std::atof(arg.c_str() + 14);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) paths.push_back(entry.path());
      }
    } else {
      paths.emplace_back(arg);
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> seeds;
  for (const auto& p : paths) {
    seeds.push_back(ReadSeed(p));
    Run(seeds.back());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "%s: no seed: give a corpus folder or files\n",
                 argv[0]);
    return 2;
  }
  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  for (; done < mutations; ++done) {
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count() > max_seconds) {
      break;
    }
    Run(Mutate(seeds[rng() % seeds.size()], rng));
  }
  std::printf("%s: %zu seeds and %ld mutated inputs, no finding\n", argv[0],
              seeds.size(), done);
  return 0;
}
