#include "lib/dedup.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "lib/cli.h"
#include "lib/parallel.h"
#include "simdjson.h"

namespace llmtk {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// Removes the spooled copy of stdin when the run ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) unlink(path.c_str());
  }
};

absl::Status SpoolStdin(TempFile* spool) {
  const char* dir = getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/llmtk-dedup-stdin.XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create a temporary file for stdin in ", tmpl));
  spool->path = tmpl;
  close(fd);
  ASSIGN_OR_RETURN(auto in, OpenInput("-"));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(tmpl));
  std::string buf(1 << 20, '\0');
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
    if (n == 0) break;
    RETURN_IF_ERROR(out->Write(std::string_view(buf.data(), n)));
  }
  return out->Close();
}

absl::StatusOr<std::vector<std::string>> PrepareInputs(const std::vector<std::string>& given, TempFile* spool) {
  std::vector<std::string> in = given.empty() ? std::vector<std::string>{"-"} : given;
  if (std::count(in.begin(), in.end(), "-") > 1)
    return absl::InvalidArgumentError("stdin ('-') can be given only once");
  ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandInputs(in));
  for (auto& p : paths) {
    if (p != "-") continue;
    RETURN_IF_ERROR(SpoolStdin(spool));
    p = spool->path;
  }
  return paths;
}

// Parses one JSON line for a field; thread_local parser per worker.
simdjson::ondemand::parser& Parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

// The numeric value of top-level `key` in `raw`; false when absent or not a number.
bool NumberField(std::string_view raw, const std::string& key, double* v) {
  simdjson::padded_string padded(raw.data(), raw.size());
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  simdjson::ondemand::value val;
  if (obj.find_field_unordered(key).get(val)) return false;
  double d;
  if (val.get_double().get(d)) return false;
  *v = d;
  return true;
}

// The JSON text of top-level `key` in `raw` ("null" when absent).
std::string IdField(std::string_view raw, const std::string& key) {
  simdjson::padded_string padded(raw.data(), raw.size());
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded).get(doc)) return "null";
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return "null";
  simdjson::ondemand::value val;
  if (obj.find_field_unordered(key).get(val)) return "null";
  simdjson::ondemand::json_type type;
  if (val.type().get(type)) return "null";
  if (type == simdjson::ondemand::json_type::object || type == simdjson::ondemand::json_type::array) {
    std::string_view s;
    if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object o;
      if (val.get_object().get(o) || o.raw_json().get(s)) return "null";
    } else {
      simdjson::ondemand::array a;
      if (val.get_array().get(a) || a.raw_json().get(s)) return "null";
    }
    return std::string(s);
  }
  std::string_view tok = val.raw_json_token();
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t' || tok.back() == '\r' || tok.back() == '\n'))
    tok.remove_suffix(1);
  return std::string(tok);
}

struct TextBatch {
  std::string texts;
  std::vector<size_t> ends;
  std::string raws;  // only when the keep field is read
  std::vector<size_t> raw_ends;
  std::vector<uint32_t> docs;  // document numbers
  std::string_view Text(size_t i) const {
    size_t b = i ? ends[i - 1] : 0;
    return std::string_view(texts).substr(b, ends[i] - b);
  }
  std::string_view Raw(size_t i) const {
    size_t b = i ? raw_ends[i - 1] : 0;
    return std::string_view(raws).substr(b, raw_ends[i] - b);
  }
};

constexpr size_t kBatchDocs = 1024;
constexpr size_t kBatchBytes = 4 << 20;

// Produces batches of documents for which `want(index)` holds.
std::function<absl::StatusOr<bool>(TextBatch*)> Producer(DocumentReader* reader, bool with_raw,
                                                         std::function<bool(uint64_t)> want,
                                                         Progress* progress, uint64_t* bytes) {
  return [=](TextBatch* b) -> absl::StatusOr<bool> {
    Document doc;
    size_t size = 0;
    while (b->docs.size() < kBatchDocs && size < kBatchBytes) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      if (doc.index >= kNone) return absl::ResourceExhaustedError("more than 4294967294 documents in one run");
      if (bytes) *bytes += doc.raw.size() + 1;
      progress->Add(1, doc.raw.size() + 1);
      if (!want(doc.index)) continue;
      b->texts.append(doc.text);
      b->ends.push_back(b->texts.size());
      if (with_raw) {
        b->raws.append(doc.raw);
        b->raw_ends.push_back(b->raws.size());
      }
      b->docs.push_back(static_cast<uint32_t>(doc.index));
      size += doc.text.size();
    }
    return !b->docs.empty();
  };
}

bool ShowProgress(const DedupOptions& o) { return o.progress || (!o.quiet && isatty(2)); }

struct SignResult {
  std::vector<DocFeatures> features;
  std::vector<double> keep;
  uint64_t missing = 0;
};

}  // namespace

absl::StatusOr<LshParams> ResolveLshParams(const DedupOptions& o, bool* chosen) {
  *chosen = false;
  if (!(o.threshold > 0 && o.threshold <= 1))
    return absl::InvalidArgumentError(absl::StrFormat("--threshold %g is not in (0, 1]", o.threshold));
  if ((o.bands > 0) != (o.rows > 0))
    return absl::InvalidArgumentError("--bands and --rows go together; give both or neither");
  if (o.bands > 0) {
    LshParams p{o.bands, o.rows};
    if (o.num_perm > 0 && o.num_perm != p.num_perm())
      return absl::InvalidArgumentError(absl::StrFormat(
          "--num-perm %d does not equal --bands %d x --rows %d; drop --num-perm", o.num_perm, o.bands, o.rows));
    if (p.num_perm() > 1024) return absl::InvalidArgumentError("--bands x --rows must be at most 1024");
    return p;
  }
  if (o.num_perm > 0 || o.threshold_given) {
    int n = o.num_perm > 0 ? o.num_perm : 112;
    if (n > 1024) return absl::InvalidArgumentError("--num-perm must be at most 1024");
    *chosen = true;
    // A candidate costs one exact comparison when verifying, a missed pair is
    // a duplicate left in: recall first. Unverified, candidates are removals,
    // so false positives and negatives weigh the same.
    if (o.verify == VerifyMode::kExact) return ChooseLshParamsForRecall(o.threshold, n, 0.99);
    return ChooseLshParams(o.threshold, n, 0.5, 0.5);
  }
  return LshParams{14, 8};
}

absl::StatusOr<DedupReport> RunDedup(const DedupOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  DedupReport rep;
  ASSIGN_OR_RETURN(rep.lsh, ResolveLshParams(o, &rep.lsh_chosen));
  if (o.ngram < 1 || o.cjk_ngram < 1) return absl::InvalidArgumentError("--ngram and --cjk-ngram must be at least 1");
  const bool use_score = o.keep != KeepPolicy::kFirst;
  const bool field_score = o.keep == KeepPolicy::kField;
  if (field_score && o.keep_field.empty()) return absl::InvalidArgumentError("--keep needs a field name");

  TempFile spool;
  ASSIGN_OR_RETURN(std::vector<std::string> inputs, PrepareInputs(o.inputs, &spool));
  const int threads = ResolveThreads(o.threads);
  ThreadPool pool(threads);

  SignOptions so;
  so.normalize = o.normalize;
  so.shingle.ngram = o.ngram;
  so.shingle.cjk_ngram = o.cjk_ngram;
  so.lsh = rep.lsh;
  so.seed = o.seed;
  so.keep_sig16 = o.verify != VerifyMode::kExact;
  MinHasher hasher(rep.lsh.num_perm(), o.seed);

  // Pass 1: features of every document.
  DocTable table;
  table.bands = rep.lsh.bands;
  table.num_perm = rep.lsh.num_perm();
  table.has_sig16 = so.keep_sig16;
  {
    ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));
    Progress progress("dedup: signing", ShowProgress(o));
    progress.SetTotalBytes(reader->TotalBytesHint());
    auto produce = Producer(reader.get(), field_score, [](uint64_t) { return true; }, &progress, &rep.bytes);
    std::function<absl::Status(TextBatch&, SignResult*)> work = [&](TextBatch& b, SignResult* r) {
      r->features.resize(b.docs.size());
      if (use_score) r->keep.resize(b.docs.size());
      for (size_t i = 0; i < b.docs.size(); ++i) {
        SignText(b.Text(i), so, hasher, &r->features[i]);
        if (o.keep == KeepPolicy::kLongest) {
          r->keep[i] = static_cast<double>(b.Text(i).size());
        } else if (field_score) {
          double v;
          if (NumberField(b.Raw(i), o.keep_field, &v)) {
            r->keep[i] = v;
          } else {
            r->keep[i] = -std::numeric_limits<double>::infinity();
            ++r->missing;
          }
        }
      }
      return absl::OkStatus();
    };
    std::function<absl::Status(SignResult&)> consume = [&](SignResult& r) {
      for (auto& f : r.features) table.Append(f);
      table.keep.insert(table.keep.end(), r.keep.begin(), r.keep.end());
      rep.missing_keep_field += r.missing;
      return absl::OkStatus();
    };
    RETURN_IF_ERROR((OrderedParallelMap<TextBatch, SignResult>(threads, produce, work, consume)));
    progress.Finish();
    rep.documents = reader->documents();
    rep.skipped = reader->skipped();
    rep.blank_lines = reader->blank_lines();
    rep.replaced_utf8 = reader->replaced_utf8();
  }
  const size_t n = table.size();
  rep.table_bytes = n * (sizeof(Hash128) + 8 * table.bands + (table.has_sig16 ? 2 * table.num_perm : 0) +
                         (use_score ? 8 : 0) + 12);

  std::vector<uint32_t> exact_rep = ExactRepresentatives(table.exact);
  std::vector<uint64_t> pairs = CandidatePairs(table, exact_rep, &pool);
  rep.candidate_pairs = pairs.size();
  std::vector<uint64_t>().swap(table.band);

  // Verification: keep the pairs at or above the threshold.
  std::vector<uint32_t> cand(n, kNone);          // candidate rank of a document
  std::vector<std::vector<uint32_t>> sets;       // its shingle set (exact mode)
  std::vector<uint64_t> accepted;
  if (o.verify == VerifyMode::kNone) {
    accepted = pairs;
  } else if (o.verify == VerifyMode::kEstimate) {
    for (uint64_t p : pairs)
      if (EstimateJaccard16(table.Sig16(PairFirst(p)), table.Sig16(PairSecond(p)), table.num_perm) >= o.threshold)
        accepted.push_back(p);
  } else {
    uint32_t ranks = 0;
    for (uint64_t p : pairs) {
      for (uint32_t d : {PairFirst(p), PairSecond(p)})
        if (cand[d] == kNone) cand[d] = ranks++;
    }
    sets.resize(ranks);
    rep.verified_docs = ranks;
    if (ranks > 0) {
      ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));
      Progress progress("dedup: verifying", ShowProgress(o));
      progress.SetTotalBytes(reader->TotalBytesHint());
      auto produce = Producer(reader.get(), false, [&](uint64_t d) { return cand[d] != kNone; }, &progress, nullptr);
      using Sets = std::vector<std::vector<uint32_t>>;
      std::function<absl::Status(TextBatch&, Sets*)> work = [&](TextBatch& b, Sets* r) {
        r->resize(b.docs.size());
        ShingleOptions sh = so.shingle;
        sh.seed = o.seed;
        for (size_t i = 0; i < b.docs.size(); ++i) {
          std::vector<uint64_t> h = ShingleHashes(NormalizeForDedup(b.Text(i), o.normalize), sh);
          auto& s = (*r)[i];
          s.reserve(h.size());
          for (uint64_t x : h) s.push_back(static_cast<uint32_t>(x >> 32));
          std::sort(s.begin(), s.end());
          s.erase(std::unique(s.begin(), s.end()), s.end());
        }
        return absl::OkStatus();
      };
      size_t seen = 0;
      std::vector<uint32_t> order;  // candidate docs in input order, for batches' docs
      for (uint32_t d = 0; d < n; ++d)
        if (cand[d] != kNone) order.push_back(d);
      std::function<absl::Status(Sets&)> consume = [&](Sets& r) {
        for (auto& s : r) {
          rep.verify_bytes += s.size() * sizeof(uint32_t) + sizeof(s);
          sets[cand[order[seen++]]] = std::move(s);
        }
        return absl::OkStatus();
      };
      RETURN_IF_ERROR((OrderedParallelMap<TextBatch, Sets>(threads, produce, work, consume)));
      progress.Finish();
      if (seen != ranks)
        return absl::DataLossError(absl::StrCat("the inputs changed between passes: ", seen, " of ", ranks,
                                                " candidate documents found on re-reading"));
    }
    std::vector<uint8_t> ok(pairs.size());
    const size_t chunk = 4096;
    pool.ParallelFor((pairs.size() + chunk - 1) / chunk, [&](size_t c) {
      for (size_t i = c * chunk; i < std::min(pairs.size(), (c + 1) * chunk); ++i)
        ok[i] = SortedJaccard(sets[cand[PairFirst(pairs[i])]], sets[cand[PairSecond(pairs[i])]]) >= o.threshold;
    });
    for (size_t i = 0; i < pairs.size(); ++i)
      if (ok[i]) accepted.push_back(pairs[i]);
  }
  rep.accepted_pairs = accepted.size();
  std::vector<uint64_t>().swap(pairs);

  std::vector<uint32_t> survivor = ChooseSurvivors(exact_rep, accepted, o.keep, table.keep);
  std::vector<uint64_t>().swap(accepted);

  // Ids of survivors that stand for others, for the cluster report.
  const bool report = !o.clusters.empty();
  const bool multi = inputs.size() > 1;
  absl::flat_hash_map<uint32_t, std::string> ids;
  for (uint32_t d = 0; d < n; ++d)
    if (survivor[d] != d) ids.try_emplace(survivor[d]);
  rep.clusters = ids.size();
  auto id_of = [&](const Document& doc) {
    if (!o.id_key.empty()) return IdField(doc.raw, o.id_key);
    if (!multi) return std::to_string(doc.line_number);
    std::string s;
    AppendJsonString(&s, absl::StrCat(*doc.source, ":", doc.line_number));
    return s;
  };
  if (report && o.keep != KeepPolicy::kFirst) {
    ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));
    Document doc;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      auto it = ids.find(static_cast<uint32_t>(doc.index));
      if (it != ids.end()) it->second = id_of(doc);
    }
  }

  // Final pass: write kept, removed and the cluster report.
  {
    ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));
    ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output, o.output_opts));
    std::unique_ptr<OutputFile> removed, clusters;
    if (!o.removed.empty()) {
      ASSIGN_OR_RETURN(removed, OutputFile::Open(o.removed, o.output_opts));
    }
    if (report) {
      ASSIGN_OR_RETURN(clusters, OutputFile::Open(o.clusters, o.output_opts));
    }
    Progress progress("dedup: writing", ShowProgress(o));
    progress.SetTotalBytes(reader->TotalBytesHint());
    Document doc;
    std::string line;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      progress.Add(1, doc.raw.size() + 1);
      if (doc.index >= n)
        return absl::DataLossError(absl::StrCat("the inputs changed between passes: more than ", n,
                                                " documents on re-reading, ", *doc.source, ":", doc.line_number));
      const uint32_t d = static_cast<uint32_t>(doc.index);
      const uint32_t s = survivor[d];
      line.assign(doc.raw);
      line.push_back('\n');
      if (s == d) {
        ++rep.kept;
        RETURN_IF_ERROR(out->Write(line));
        if (report && o.keep == KeepPolicy::kFirst) {
          auto it = ids.find(d);
          if (it != ids.end()) it->second = id_of(doc);
        }
        continue;
      }
      const bool exact = exact_rep[d] == exact_rep[s];
      ++(exact ? rep.exact_duplicates : rep.near_duplicates);
      if (removed) RETURN_IF_ERROR(removed->Write(line));
      if (!report) continue;
      double j = 1.0;
      if (!exact) {
        uint32_t a = exact_rep[d], b = exact_rep[s];
        if (o.verify == VerifyMode::kExact) {
          j = cand[a] != kNone && cand[b] != kNone ? SortedJaccard(sets[cand[a]], sets[cand[b]]) : 0.0;
        } else {
          j = EstimateJaccard16(table.Sig16(a), table.Sig16(b), table.num_perm);
        }
      }
      JsonWriter w;
      w.BeginObject().Key("id").Raw(id_of(doc)).Key("kept_id").Raw(ids[s]);
      w.Key("cluster").Uint(s).Key("kind").String(exact ? "exact" : "near");
      w.Key("jaccard").Double(std::round(j * 10000) / 10000).EndObject();
      std::string rec = w.Take();
      rec.push_back('\n');
      RETURN_IF_ERROR(clusters->Write(rec));
    }
    progress.Finish();
    if (reader->documents() != n)
      return absl::DataLossError(absl::StrCat("the inputs changed between passes: ", reader->documents(),
                                              " documents on re-reading, ", n, " before"));
    RETURN_IF_ERROR(out->Close());
    if (removed) RETURN_IF_ERROR(removed->Close());
    if (clusters) RETURN_IF_ERROR(clusters->Close());
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet) {
    std::string s = o.json ? FormatDedupJson(o, rep) + "\n" : FormatDedupSummary(o, rep);
    fwrite(s.data(), 1, s.size(), stderr);
  }
  return rep;
}

namespace {
const char* VerifyName(VerifyMode v) {
  return v == VerifyMode::kExact ? "exact" : v == VerifyMode::kEstimate ? "estimate" : "none";
}
}  // namespace

std::string FormatDedupSummary(const DedupOptions& o, const DedupReport& r) {
  std::string s = absl::StrFormat(
      "llmtk-dedup: %d documents (%s): %d exact duplicates, %d near duplicates removed, %d kept",
      r.documents, HumanBytes(static_cast<double>(r.bytes)), r.exact_duplicates, r.near_duplicates, r.kept);
  if (r.skipped) absl::StrAppendFormat(&s, ", %d bad lines skipped", r.skipped);
  if (r.blank_lines) absl::StrAppendFormat(&s, ", %d blank lines ignored", r.blank_lines);
  if (r.replaced_utf8) absl::StrAppendFormat(&s, ", %d documents with invalid UTF-8 repaired", r.replaced_utf8);
  s += "\n";
  absl::StrAppendFormat(&s,
                        "llmtk-dedup: MinHash %d hashes = %d bands x %d rows%s, threshold %g: "
                        "P(candidate) %.3f at the threshold, false-positive area %.4f, false-negative area %.4f\n",
                        r.lsh.num_perm(), r.lsh.bands, r.lsh.rows, r.lsh_chosen ? " (chosen for the threshold)" : "",
                        o.threshold, CandidateProbability(o.threshold, r.lsh), FalsePositiveArea(o.threshold, r.lsh),
                        FalseNegativeArea(o.threshold, r.lsh));
  absl::StrAppendFormat(&s, "llmtk-dedup: verify %s: %d candidate pairs, %d accepted, %d rejected; %d clusters\n",
                        VerifyName(o.verify), r.candidate_pairs, r.accepted_pairs,
                        r.candidate_pairs - r.accepted_pairs, r.clusters);
  if (r.missing_keep_field)
    absl::StrAppendFormat(&s, "llmtk-dedup: %d documents lack a numeric '%s' and rank last for --keep\n",
                          r.missing_keep_field, o.keep_field);
  return s;
}

std::string FormatDedupJson(const DedupOptions& o, const DedupReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("documents").Uint(r.documents).Key("bytes").Uint(r.bytes);
  w.Key("exact_duplicates").Uint(r.exact_duplicates).Key("near_duplicates").Uint(r.near_duplicates);
  w.Key("kept").Uint(r.kept).Key("skipped").Uint(r.skipped).Key("blank_lines").Uint(r.blank_lines);
  w.Key("replaced_utf8").Uint(r.replaced_utf8);
  w.Key("num_perm").Int(r.lsh.num_perm()).Key("bands").Int(r.lsh.bands).Key("rows").Int(r.lsh.rows);
  w.Key("threshold").Double(o.threshold).Key("verify").String(VerifyName(o.verify));
  w.Key("candidate_probability_at_threshold").Double(CandidateProbability(o.threshold, r.lsh));
  w.Key("false_positive_area").Double(FalsePositiveArea(o.threshold, r.lsh));
  w.Key("false_negative_area").Double(FalseNegativeArea(o.threshold, r.lsh));
  w.Key("candidate_pairs").Uint(r.candidate_pairs).Key("accepted_pairs").Uint(r.accepted_pairs);
  w.Key("clusters").Uint(r.clusters).Key("verified_documents").Uint(r.verified_docs);
  w.Key("missing_keep_field").Uint(r.missing_keep_field);
  w.Key("table_bytes").Uint(r.table_bytes).Key("verify_bytes").Uint(r.verify_bytes);
  w.Key("seconds").Double(r.seconds);
  w.EndObject();
  return w.Take();
}

}  // namespace llmtk
