#include "lib/filter/attributes.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/filter/text.h"

namespace llmtk {

void Attributes::Add(std::string_view tagger, std::string_view type, uint64_t start, uint64_t end, double score) {
  const Span span{start, end, PythonRound5(score)};
  // Types are few per tagger (at most ~20), so a scan from the back finds
  // the current one at once.
  const size_t key_len = 2 * tagger.size() + 4 + type.size();
  for (size_t i = size_; i-- > 0;) {
    const std::string& n = items_[i].name;
    if (n.size() == key_len && std::string_view(n).substr(n.size() - type.size()) == type &&
        std::string_view(n).substr(0, tagger.size()) == tagger) {
      items_[i].spans.push_back(span);
      return;
    }
  }
  if (size_ == items_.size()) items_.emplace_back();
  Attribute& a = items_[size_++];
  // A slot mostly holds the same name document after document: its quoted
  // key is rebuilt only when the name changes.
  thread_local std::string key;
  key.clear();
  key.append(tagger).append("__").append(tagger).append("__").append(type);
  if (a.name != key) {
    a.name = key;
    a.json_key.clear();
    AppendJsonString(&a.json_key, a.name);
    a.json_key.push_back(':');
  }
  a.spans.clear();
  a.spans.push_back(span);
}

const Attribute* Attributes::Find(std::string_view name) const {
  for (const Attribute& a : items()) {
    if (a.name == name) return &a;
    // Short form: "<tagger>__<type>" is the key without the experiment.
    const size_t sep = a.name.find("__");
    if (sep != std::string::npos && std::string_view(a.name).substr(sep + 2) == name) return &a;
  }
  return nullptr;
}

namespace {
// JsonWriter's number forms: integers in decimal, doubles as std::to_chars's
// shortest round-trip form, non-finite as null.
void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}
void AppendDouble(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  char buf[64];
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}
}  // namespace

void Attributes::AppendJson(std::string* out) const {
  out->push_back('{');
  for (size_t i = 0; i < size_; ++i) {
    const Attribute& a = items_[i];
    if (i > 0) out->push_back(',');
    out->append(a.json_key);
    out->push_back('[');
    for (size_t j = 0; j < a.spans.size(); ++j) {
      const Span& s = a.spans[j];
      out->append(j > 0 ? ",[" : "[");
      AppendUint(s.start, out);
      out->push_back(',');
      AppendUint(s.end, out);
      out->push_back(',');
      AppendDouble(s.score, out);
      out->push_back(']');
    }
    out->push_back(']');
  }
  out->push_back('}');
}

void Attributes::AppendJsonReference(std::string* out) const {
  JsonWriter w;
  w.BeginObject();
  for (const Attribute& a : items()) {
    w.Key(a.name).BeginArray();
    for (const Span& s : a.spans) w.BeginArray().Uint(s.start).Uint(s.end).Double(s.score).EndArray();
    w.EndArray();
  }
  w.EndObject();
  if (out->empty()) {
    *out = w.Take();
  } else {
    out->append(w.str());
  }
}

}  // namespace llmtk
