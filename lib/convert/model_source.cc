#include "lib/convert/model_source.h"

namespace llmtk {

absl::StatusOr<ModelSource> OpenGgufSource(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  ModelSource src;
  src.name = path;
  src.metadata.CopyFrom(*file);
  for (const GgufTensor& t : file->tensors()) {
    SourceTensor st;
    st.name = std::string(t.name);
    st.dims = t.dims;
    st.type = t.type;
    st.data = t.data;
    src.tensors.push_back(std::move(st));
  }
  src.keepalive = std::shared_ptr<const GgufFile>(std::move(file));
  src.release_pages = true;
  return src;
}

}  // namespace llmtk
