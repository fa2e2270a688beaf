// base/json_writer: writing JSON -- the one JSON string escaper and a small
// streaming writer for compact JSON. Every JSON the tools print (reports,
// stats, manifests, JSONL lines) goes through AppendJsonString, so strings
// are escaped alike everywhere and the output is always valid JSON.
//
// Thread-safety: AppendJsonString is thread-safe; a JsonWriter is used by one
// thread at a time.
#ifndef LLMTK_LIB_BASE_JSON_WRITER_H_
#define LLMTK_LIB_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmtk {

// Appends `s` as a JSON string literal (quotes included). Control characters,
// '"' and '\\' are escaped; other UTF-8 is written as is. Invalid UTF-8 bytes
// become U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view s);

// Builds compact JSON; commas are inserted automatically.
//   JsonWriter w; w.BeginObject().Key("n").Int(3).Key("xs").BeginArray()...
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  // Shortest representation that round-trips; NaN/inf are written as null.
  JsonWriter& Double(double v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  JsonWriter& Raw(std::string_view json);  // an already-serialized value
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_JSON_WRITER_H_
