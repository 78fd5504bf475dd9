// Little-endian byte encoding of the model's state for snapshots: fixed-size
// values and length-prefixed strings, with a reader that reports truncation
// instead of reading past the end, and refuses a NaN or infinite number (the
// model never stores one: read back, it would poison every prediction).
#ifndef NOQUEUE_MODEL_BYTE_CODEC_H_
#define NOQUEUE_MODEL_BYTE_CODEC_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace noqueue::model {

class ByteWriter {
 public:
  template <typename T>
  void Put(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  template <typename T>
  void PutVector(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(*v);
    return true;
  }
  bool GetString(std::string* s) {
    uint32_t n;
    if (!Get(&n) || in_.size() - pos_ < n) return false;
    s->assign(in_, pos_, n);
    pos_ += n;
    return true;
  }
  // Reads a vector written by PutVector; refuses sizes the input cannot hold.
  template <typename T>
  bool GetVector(std::vector<T>* v) {
    uint64_t n;
    if (!Get(&n) || n > Remaining() / sizeof(T)) return false;
    v->resize(n);
    // An empty vector's data() may be null, and memcpy from or to null is
    // undefined even for 0 bytes (found by tests/fuzz/model_snapshot_fuzzer).
    if (n > 0) std::memcpy(v->data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    if constexpr (std::is_floating_point_v<T>) {
      return std::all_of(v->begin(), v->end(),
                         [](T x) { return std::isfinite(x); });
    }
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t Remaining() const { return in_.size() - pos_; }

 private:
  const std::string& in_;
  size_t pos_ = 0;
};

}  // namespace noqueue::model

#endif  // NOQUEUE_MODEL_BYTE_CODEC_H_
