#include "lib/eval/kl_divergence.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "lib/eval/perplexity.h"
#include "xxhash.h"

namespace llmtk {
namespace {

constexpr char kMagic[8] = {'L', 'L', 'M', 'T', 'K', 'L', 'G', '1'};
constexpr size_t kHeaderSize = 64;

void Put32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }
void Put64(std::string* s, uint64_t v) { s->append(reinterpret_cast<const char*>(&v), 8); }
void PutF(std::string* s, float v) { s->append(reinterpret_cast<const char*>(&v), 4); }
template <typename T>
T Get(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

std::string EncodeHeader(const LogitsFileHeader& h) {
  std::string s(kMagic, 8);
  Put32(&s, 1);
  Put32(&s, h.n_vocab);
  Put32(&s, h.top_k);
  Put32(&s, h.n_ctx);
  Put32(&s, h.stride);
  Put32(&s, 0);
  Put64(&s, h.n_positions);
  Put64(&s, h.tokens_hash);
  Put64(&s, h.vocab_hash);
  Put64(&s, 0);
  return s;
}

size_t RecordSize(uint32_t top_k) { return 12 + 8 * static_cast<size_t>(top_k); }

}  // namespace

uint64_t HashTokens(absl::Span<const int32_t> tokens) {
  return XXH3_64bits(tokens.data(), tokens.size() * sizeof(int32_t));
}

// ---------------------------------------------------------------- writer

absl::StatusOr<std::unique_ptr<LogitsWriter>> LogitsWriter::Open(const std::string& path,
                                                                 LogitsFileHeader header) {
  if (header.top_k == 0 || header.top_k > header.n_vocab) {
    return absl::InvalidArgumentError(
        absl::StrCat("--top-k must be between 1 and the vocabulary size (", header.n_vocab, "), got ",
                     header.top_k));
  }
  std::unique_ptr<LogitsWriter> w(new LogitsWriter());
  w->header_ = header;
  w->header_.n_positions = 0;
  w->path_ = path;
  ASSIGN_OR_RETURN(w->out_, OutputFile::Open(path));
  // The count is not known yet: write a placeholder header, and rewrite it
  // in Close() (OutputFile writes a temporary, renamed only then).
  RETURN_IF_ERROR(w->out_->Write(EncodeHeader(w->header_)));
  w->order_.resize(header.n_vocab);
  return w;
}

absl::Status LogitsWriter::Add(const float* logits, int32_t target) {
  const uint32_t n = header_.n_vocab, k = header_.top_k;
  std::iota(order_.begin(), order_.end(), 0);
  // Descending logit, ascending id on ties: the same order argmax uses.
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  record_.clear();
  Put32(&record_, static_cast<uint32_t>(target));
  PutF(&record_, logits[target]);
  PutF(&record_, static_cast<float>(LogSumExp(logits, static_cast<int>(n))));
  for (uint32_t i = 0; i < k; ++i) {
    Put32(&record_, static_cast<uint32_t>(order_[i]));
    PutF(&record_, logits[order_[i]]);
  }
  ++header_.n_positions;
  return out_->Write(record_);
}

absl::Status LogitsWriter::Close() {
  RETURN_IF_ERROR(out_->Close());
  // Patch the position count in place now that the file is complete.
  FILE* f = fopen(path_.c_str(), "r+b");
  if (f == nullptr) return absl::InternalError(absl::StrCat("cannot reopen ", path_, " to finish it"));
  std::string h = EncodeHeader(header_);
  bool ok = fwrite(h.data(), 1, h.size(), f) == h.size();
  ok = (fclose(f) == 0) && ok;
  if (!ok) return absl::InternalError(absl::StrCat("cannot finish ", path_));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- reader

absl::StatusOr<std::unique_ptr<LogitsReader>> LogitsReader::Open(const std::string& path) {
  std::unique_ptr<LogitsReader> r(new LogitsReader());
  ASSIGN_OR_RETURN(r->file_, MappedFile::Open(path));
  const uint8_t* p = r->file_->data();
  size_t size = r->file_->size();
  if (size < kHeaderSize || memcmp(p, kMagic, 8) != 0) {
    return absl::DataLossError(absl::StrCat("not an llmtk logits file (bad magic), ", path,
                                            "; make one with llmtk-ppl --save-logits"));
  }
  uint32_t version = Get<uint32_t>(p + 8);
  if (version != 1) {
    return absl::DataLossError(absl::StrCat("unsupported logits file version ", version, ", ", path));
  }
  LogitsFileHeader& h = r->header_;
  h.n_vocab = Get<uint32_t>(p + 12);
  h.top_k = Get<uint32_t>(p + 16);
  h.n_ctx = Get<uint32_t>(p + 20);
  h.stride = Get<uint32_t>(p + 24);
  h.n_positions = Get<uint64_t>(p + 32);
  h.tokens_hash = Get<uint64_t>(p + 40);
  h.vocab_hash = Get<uint64_t>(p + 48);
  if (h.top_k == 0 || h.top_k > h.n_vocab) {
    return absl::DataLossError(absl::StrCat("corrupt logits file: top_k ", h.top_k, " with a vocabulary of ",
                                            h.n_vocab, ", ", path));
  }
  unsigned __int128 want = kHeaderSize + static_cast<unsigned __int128>(h.n_positions) * RecordSize(h.top_k);
  if (want != size) {
    return absl::DataLossError(absl::StrCat("truncated or corrupt logits file: ", size, " bytes, the header needs ",
                                            static_cast<uint64_t>(want), ", ", path));
  }
  return r;
}

absl::Status LogitsReader::CheckCompatible(const LogitsFileHeader& e) const {
  const LogitsFileHeader& h = header_;
  const std::string& f = file_->name();
  if (h.vocab_hash != e.vocab_hash || h.n_vocab != e.n_vocab) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the logits file was made with a different tokenizer (vocabulary of ", h.n_vocab, " vs ", e.n_vocab,
        ", or different tokens), ", f));
  }
  if (h.tokens_hash != e.tokens_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("the logits file was made for a different text, ", f, "; use the same -f input"));
  }
  if (h.n_ctx != e.n_ctx || h.stride != e.stride) {
    return absl::FailedPreconditionError(absl::StrCat("the logits file was made with --ctx ", h.n_ctx, " --stride ",
                                                   h.stride, ", this run uses --ctx ", e.n_ctx, " --stride ",
                                                   e.stride, ", ", f));
  }
  return absl::OkStatus();
}

absl::Status LogitsReader::Compare(const float* logits, int32_t target, KlStats* st) {
  const LogitsFileHeader& h = header_;
  if (next_ >= h.n_positions) {
    return absl::DataLossError(absl::StrCat("the logits file ends after ", h.n_positions, " positions, ",
                                            file_->name()));
  }
  const uint8_t* rec = file_->data() + kHeaderSize + next_ * RecordSize(h.top_k);
  ++next_;
  int32_t base_target = Get<int32_t>(rec);
  if (base_target != target) {
    return absl::DataLossError(absl::StrCat("position ", next_ - 1, " of the logits file scores token ",
                                            base_target, ", this run token ", target, ", ", file_->name()));
  }
  const int n = static_cast<int>(h.n_vocab);
  const double base_lse = Get<float>(rec + 8);
  // Rounded to float as the file stores it, so a model compared with itself
  // gives exactly 0.
  const double lse = static_cast<float>(LogSumExp(logits, n));
  double kl = 0, pk = 0, qk = 0;
  for (uint32_t i = 0; i < h.top_k; ++i) {
    const uint8_t* e = rec + 12 + 8 * static_cast<size_t>(i);
    int32_t id = Get<int32_t>(e);
    if (id < 0 || id >= n) {
      return absl::DataLossError(absl::StrCat("corrupt logits file: token id ", id, " at position ", next_ - 1,
                                              ", ", file_->name()));
    }
    double log_p = Get<float>(e + 4) - base_lse;
    double log_q = logits[id] - lse;
    double p = std::exp(log_p);
    pk += p;
    qk += std::exp(log_q);
    kl += p * (log_p - log_q);
  }
  double rp = 1 - pk, rq = 1 - qk;
  if (rp > 1e-12 && rq > 1e-12) kl += rp * std::log(rp / rq);
  int32_t top1 = Get<int32_t>(rec + 12);
  int32_t argmax = static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
  double base_nll = -(Get<float>(rec + 4) - base_lse);
  double nll = -(logits[target] - lse);
  ++st->count;
  st->kl.push_back(kl);
  st->kl_sum += kl;
  st->kl_sum_sq += kl * kl;
  st->same_top1 += (top1 == argmax);
  st->base_nll += base_nll;
  st->nll += nll;
  st->base_nll_sq += base_nll * base_nll;
  st->nll_sq += nll * nll;
  st->cross += base_nll * nll;
  return absl::OkStatus();
}

// ---------------------------------------------------------------- stats

double KlStats::MeanStderr() const {
  if (count < 2) return 0;
  double m = Mean();
  double var = kl_sum_sq / count - m * m;
  return var > 0 ? std::sqrt(var / (count - 1)) : 0;
}

double KlStats::Percentile(double p) const {
  if (kl.empty()) return 0;
  std::vector<double> v = kl;
  std::sort(v.begin(), v.end());
  double idx = p / 100.0 * (v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(idx));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (idx - lo);
}

double KlStats::SameTop1Stderr() const {
  if (count < 2) return 0;
  double p = SameTop1();
  return std::sqrt(p * (1 - p) / (count - 1));
}

double KlStats::BasePpl() const { return count ? std::exp(base_nll / count) : 0; }
double KlStats::Ppl() const { return count ? std::exp(nll / count) : 0; }

}  // namespace llmtk
