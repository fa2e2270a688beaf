// base/status: error propagation for the whole library.
//
// Every fallible function in lib/ returns absl::Status or absl::StatusOr<T>;
// nothing throws across the library boundary and nothing calls exit().
// Abseil 20220623 (Debian 12) lacks RETURN_IF_ERROR/ASSIGN_OR_RETURN, so we
// keep small versions here. Codes follow DESIGN.md: InvalidArgument for bad
// options, NotFound for missing files, DataLoss for corrupt or truncated
// input, Unimplemented for valid-but-unsupported features, ResourceExhausted
// for hit bounds. Messages name the file and line/offset and what to do.
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_BASE_STATUS_H_
#define LLMTK_LIB_BASE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define LLMTK_STATUS_CONCAT_INNER_(a, b) a##b
#define LLMTK_STATUS_CONCAT_(a, b) LLMTK_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    ::absl::Status llmtk_status_ = (expr);                \
    if (!llmtk_status_.ok()) return llmtk_status_;        \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` or `ASSIGN_OR_RETURN(x, Foo());`
#define ASSIGN_OR_RETURN(lhs, expr) \
  LLMTK_ASSIGN_OR_RETURN_IMPL_(LLMTK_STATUS_CONCAT_(llmtk_statusor_, __LINE__), lhs, expr)
#define LLMTK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

namespace llmtk {

// Debian's Abseil 20220623 is built with ABSL_OPTION_USE_STD_STRING_VIEW=0:
// absl::string_view is its own type and std::string_view does not convert to
// it (StrCat/StrFormat/Status messages). These make the crossings explicit.
inline absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Appends `where` ("file.jsonl:12", "tensor 'x' in model.gguf") to a
// status's message as "<what>, <where>" (the house error format), keeping its
// code. OK stays OK.
absl::Status Annotate(const absl::Status& s, std::string_view where);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_STATUS_H_
