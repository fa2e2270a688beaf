#include "lib/filter/filter.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/json_fields.h"
#include "lib/base/parallel.h"
#include "lib/base/progress.h"
#include "lib/filter/attributes.h"
#include "lib/filter/c4.h"
#include "lib/filter/fineweb.h"
#include "lib/filter/gopher.h"
#include "lib/filter/langid.h"
#include "lib/filter/langid_fasttext.h"
#include "lib/filter/rules.h"
#include "lib/filter/text.h"

namespace llmtk {

absl::StatusOr<std::string> TaggerName(std::string_view name) {
  if (name == "gopher" || name == "gopher_v1") return std::string(kGopherTagger);
  if (name == "c4" || name == "c4_v1") return std::string(kC4Tagger);
  if (name == "fineweb" || name == "fineweb_v1") return std::string(kFineWebTagger);
  if (name == "cld2" || name == "lang") return std::string(kCld2Tagger);
  if (name == "fasttext") return std::string(kFastTextTagger);
  return absl::InvalidArgumentError(
      absl::StrCat("--taggers: '", ToAbsl(name), "' is not one of gopher, c4, fineweb, cld2, fasttext"));
}

namespace {

constexpr size_t kBatchBytes = 1 << 20;
constexpr size_t kBatchDocs = 2048;

struct Batch {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> text, raw;
  std::vector<char> is_json;
  std::string_view Text(size_t i) const { return std::string_view(arena).substr(text[i].first, text[i].second); }
  std::string_view Raw(size_t i) const { return std::string_view(arena).substr(raw[i].first, raw[i].second); }
};

struct Result {
  std::string kept, removed;
  uint64_t documents = 0, kept_docs = 0, bytes = 0;
  std::vector<uint64_t> by_rule;
  PiiCounts pii;
};

// The document line with `fields` set, appended to `out`; a plain-text line
// becomes {"text": ...}.
absl::Status AppendLine(const Batch& b, size_t i, std::string_view text_key, bool text_changed,
                        std::string_view text, std::initializer_list<JsonField> extra, std::string* out) {
  JsonField fields[4];
  size_t n = 0;
  thread_local std::string text_json;
  text_json.clear();
  if (text_changed || !b.is_json[i]) AppendJsonString(&text_json, text);
  if (!b.is_json[i]) {
    fields[n++] = {"text", text_json};
  } else if (text_changed) {
    if (text_key.find('.') != std::string_view::npos)
      return absl::InvalidArgumentError("--pii with a dotted --text-key is not supported; give a top-level key");
    fields[n++] = {text_key, text_json};
  }
  for (const JsonField& f : extra) fields[n++] = f;
  RETURN_IF_ERROR(AppendJsonWithFields(b.is_json[i] ? b.Raw(i) : std::string_view("{}"), fields, n, out));
  out->push_back('\n');
  return absl::OkStatus();
}

// Large buffers handed back and forth between batches: a fresh multi-MB
// string per batch is fresh memory from the kernel each time, and its page
// faults cost more than the writing into it.
class BufferPool {
 public:
  std::string Get() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return {};
    std::string s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void Put(std::string s) {
    s.clear();
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < 16) free_.push_back(std::move(s));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> free_;
};

}  // namespace

absl::StatusOr<FilterReport> RunFilter(const FilterOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  FilterReport report;
  RuleSet rules;
  std::vector<std::string> taggers;
  if (o.tag) {
    for (const std::string& t : o.taggers) {
      ASSIGN_OR_RETURN(std::string name, TaggerName(t));
      if (std::find(taggers.begin(), taggers.end(), name) == taggers.end()) taggers.push_back(name);
    }
    if (!o.fasttext.empty() && std::find(taggers.begin(), taggers.end(), kFastTextTagger) == taggers.end())
      taggers.emplace_back(kFastTextTagger);
    if (taggers.empty()) return absl::InvalidArgumentError("--taggers names no tagger");
  } else {
    ASSIGN_OR_RETURN(rules, LoadRules(o.rules));
    taggers = rules.taggers;
  }
  // Rules with "languages" read the top language of fastText when a model is
  // given, else of CLD2.
  const std::string lang_tagger(o.fasttext.empty() ? kCld2Tagger : kFastTextTagger);
  if (rules.needs_language && std::find(taggers.begin(), taggers.end(), lang_tagger) == taggers.end())
    taggers.push_back(lang_tagger);
  const std::string lang_prefix = absl::StrCat(lang_tagger, "__", lang_tagger, "__");
  std::unique_ptr<FastTextLangId> fasttext;
  if (std::find(taggers.begin(), taggers.end(), kFastTextTagger) != taggers.end()) {
    if (o.fasttext.empty())
      return absl::InvalidArgumentError(o.tag ? "--taggers fasttext needs --fasttext MODEL.bin (lid.176.bin, GlotLID)"
                                              : "the rules read fastText attributes; give --fasttext MODEL.bin");
    ASSIGN_OR_RETURN(fasttext, FastTextLangId::Load(o.fasttext));
  }
  report.taggers = taggers;
  std::unique_ptr<C4Tagger> c4;
  if (std::find(taggers.begin(), taggers.end(), kC4Tagger) != taggers.end()) {
    if (o.bad_words.empty()) {
      c4 = std::make_unique<C4Tagger>();
    } else {
      ASSIGN_OR_RETURN(std::string list, ReadFileToString(o.bad_words));
      c4 = std::make_unique<C4Tagger>(list);
    }
  }
  std::unique_ptr<PiiReplacer> pii;
  if (o.pii) {
    ASSIGN_OR_RETURN(pii, PiiReplacer::Create());
  }

  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(o.inputs.empty() ? std::vector<std::string>{"-"}
                                                                                  : o.inputs));
  const size_t f = files.size();
  std::vector<std::string> mine(files.begin() + f * o.shard / o.num_shards,
                                files.begin() + f * (o.shard + 1) / o.num_shards);
  report.inputs = mine;
  std::unique_ptr<DocumentReader> reader;
  if (!mine.empty()) {
    ASSIGN_OR_RETURN(reader, DocumentReader::Open(mine, o.reader));
  }

  ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out, OutputFile::Open(o.output, o.output_opts));
  std::unique_ptr<OutputFile> removed;
  if (!o.tag && !o.removed.empty()) {
    ASSIGN_OR_RETURN(removed, OutputFile::Open(o.removed, o.output_opts));
  }
  report.removed_by_rule.reserve(rules.rules.size());
  for (const Rule& r : rules.rules) report.removed_by_rule.push_back({r.name, 0});

  Progress progress("filter", o.progress);
  BufferPool arenas, outputs;  // apart, so that each converges to its own size
  auto produce = [&](Batch* b) -> absl::StatusOr<bool> {
    if (b->arena.empty()) b->arena = arenas.Get();  // a fresh batch
    b->arena.clear();
    b->text.clear();
    b->raw.clear();
    b->is_json.clear();
    if (!reader) return false;
    Document d;
    while (b->text.size() < kBatchDocs && b->arena.size() < kBatchBytes) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&d));
      if (!more) break;
      const size_t t = b->arena.size();
      b->arena.append(d.text);
      const size_t r = b->arena.size();
      b->arena.append(d.raw);
      b->text.push_back({t, d.text.size()});
      b->raw.push_back({r, d.raw.size()});
      b->is_json.push_back(d.is_json);
    }
    progress.SetTotalBytes(reader->TotalBytesHint());
    progress.Add(b->text.size());
    progress.SetBytes(static_cast<uint64_t>(std::max<int64_t>(reader->RawBytesRead(), 0)));
    return !b->text.empty();
  };
  auto work = [&](Batch& b, Result* res) -> absl::Status {
    thread_local GopherTagger gopher;
    res->by_rule.assign(rules.rules.size(), 0);
    res->kept = outputs.Get();
    if (removed) res->removed = outputs.Get();
    // Tags add about 1.5 kB a document; one allocation instead of regrowth.
    res->kept.reserve(b.arena.size() + (o.tag ? 1600 * b.text.size() : 0));
    Attributes attrs;
    for (size_t i = 0; i < b.text.size(); ++i) {
      std::string_view text = b.Text(i);
      res->bytes += text.size();
      ++res->documents;
      std::string replaced;
      bool changed = false;
      if (pii) {
        PiiCounts before = res->pii;
        ASSIGN_OR_RETURN(replaced, pii->Replace(text, &res->pii));
        changed = res->pii.emails != before.emails || res->pii.ips != before.ips;
        if (changed) text = replaced;
      }
      attrs.Clear();
      for (const std::string& t : taggers) {
        if (t == kGopherTagger) gopher.Tag(text, &attrs);
        else if (t == kC4Tagger) c4->Tag(text, &attrs);
        else if (t == kFineWebTagger) TagFineWeb(text, &attrs);
        else if (t == kCld2Tagger) TagLanguage(text, &attrs);
        else if (t == kFastTextTagger) fasttext->Tag(text, &attrs);
      }
      if (o.tag) {
        thread_local std::string json;
        json.clear();
        attrs.AppendJson(&json);
        RETURN_IF_ERROR(AppendLine(b, i, o.reader.text_key, changed, text, {{"attributes", json}}, &res->kept));
        ++res->kept_docs;
        continue;
      }
      const uint64_t chars = CodePoints(text);
      int dropped_by = -1;
      double value = 0;
      int cjk = -1;  // computed on first need
      std::string top_lang;
      for (size_t r = 0; r < rules.rules.size() && dropped_by < 0; ++r) {
        const Rule& rule = rules.rules[r];
        if (rule.unless_cjk) {
          if (cjk < 0) cjk = IsMostlyCjk(text) ? 1 : 0;
          if (cjk == 1) continue;
        }
        if (!rule.languages.empty()) {
          if (top_lang.empty()) {
            top_lang = "un";
            for (const Attribute& a : attrs.items())
              if (a.name.starts_with(lang_prefix)) {
                top_lang = a.name.substr(lang_prefix.size());
                break;
              }
          }
          if (std::find(rule.languages.begin(), rule.languages.end(), top_lang) == rule.languages.end()) continue;
        }
        value = RuleValue(rule, attrs, chars);
        if (!RulePasses(rule, value)) dropped_by = static_cast<int>(r);
      }
      if (dropped_by < 0) {
        RETURN_IF_ERROR(AppendLine(b, i, o.reader.text_key, changed, text, {}, &res->kept));
        ++res->kept_docs;
      } else {
        ++res->by_rule[dropped_by];
        if (removed) {
          JsonWriter w;
          w.BeginObject().Key("rule").String(rules.rules[dropped_by].name).Key("value").Double(value).EndObject();
          RETURN_IF_ERROR(AppendLine(b, i, o.reader.text_key, changed, text, {{"filter", w.str()}}, &res->removed));
        }
      }
    }
    arenas.Put(std::move(b.arena));
    return absl::OkStatus();
  };
  auto consume = [&](Result& res) -> absl::Status {
    RETURN_IF_ERROR(out->Write(res.kept));
    if (removed) RETURN_IF_ERROR(removed->Write(res.removed));
    outputs.Put(std::move(res.kept));
    if (removed) outputs.Put(std::move(res.removed));
    report.documents += res.documents;
    report.kept += res.kept_docs;
    report.bytes += res.bytes;
    report.pii.emails += res.pii.emails;
    report.pii.ips += res.pii.ips;
    for (size_t r = 0; r < res.by_rule.size(); ++r) report.removed_by_rule[r].second += res.by_rule[r];
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<Batch, Result>(o.threads, produce, work, consume)));
  RETURN_IF_ERROR(out->Close());
  if (removed) RETURN_IF_ERROR(removed->Close());
  progress.Finish();
  report.removed = report.documents - report.kept;
  if (reader) {
    report.skipped = reader->skipped();
    report.blank_lines = reader->blank_lines();
    report.first_skip_reason = reader->first_skip_reason();
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace llmtk
