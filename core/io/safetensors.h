#pragma once
// safetensors files: a little-endian u64 header length, a JSON header, then raw tensor bytes.
// SafetensorsFile maps the file read-only and validates the whole header up front (dtype,
// shape x dtype size == byte range, ranges inside the data section, no overlap), then loads
// tensors lazily one at a time. Thread-safety: const methods may be called concurrently.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mq::core {

// F8_E4M3 (float8_e4m3fn) is held as raw bytes (at::kByte): this libtorch has no float8 type,
// and its values are decoded by quant/formats.h (fmt::e4m3Decode); it is not a floating dtype here.
enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3 };

const char* dtypeName(DType t);       // "F32", ...
size_t dtypeSize(DType t);            // bytes per element
bool parseDType(const std::string& s, DType* out);
at::ScalarType toScalarType(DType t);
DType fromScalarType(at::ScalarType t); // throws Error for types safetensors cannot hold

// "[3, 4]"
std::string shapeText(at::IntArrayRef shape);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // offsets relative to the data section
    uint64_t end = 0;
    int64_t numel() const;
};

class SafetensorsFile {
public:
    // Throws InputError naming the file (and tensor) when the file is missing or malformed.
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return m_path; }
    const std::map<std::string, TensorInfo>& tensors() const { return m_tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    bool contains(const std::string& name) const { return m_tensors.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const; // throws InputError if absent

    // A copy of the tensor in its stored dtype (CPU, contiguous).
    at::Tensor load(const std::string& name) const;
    // A copy converted to float32; only floating dtypes are accepted (throws otherwise).
    at::Tensor loadFloat(const std::string& name) const;
    // A tensor over the mapped bytes in the stored dtype, without a copy (a copy only where the
    // bytes are not aligned for the dtype). Read-only by contract; valid while this object lives.
    at::Tensor view(const std::string& name) const;
    // Gives the tensor's resident pages back to the kernel (madvise MADV_DONTNEED on the whole
    // pages inside its byte range): streaming readers call it once a layer is done, so resident
    // memory does not grow with depth. Touching the bytes again re-reads them from the file.
    void release(const std::string& name) const;

private:
    std::string m_path;
    int m_fd = -1;
    const uint8_t* m_map = nullptr;
    size_t m_size = 0;
    size_t m_dataOffset = 0;
    std::map<std::string, TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

// Writes tensors (any order; stored sorted by name) atomically to path. CPU tensors of the
// dtypes above; non-contiguous tensors are made contiguous.
void writeSafetensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Serialises the same bytes without touching disk (tests and shard writers use it).
std::string serializeSafetensors(const std::map<std::string, at::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata = {});

// What a streamed writer is told up front for each tensor.
struct TensorSpec {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t bytes() const;
};

// Writes a safetensors file tensor by tensor, so that a checkpoint larger than memory can be
// written: the header (offsets in the order of `specs`) goes first, then each tensor's bytes
// in that order through write() (whole tensors) or writeBytes() (chunks). Atomic like
// writeSafetensors: nothing appears at `path` before commit(), which checks that every byte
// announced was written. Not thread-safe.
class SafetensorsStreamWriter {
public:
    SafetensorsStreamWriter(const std::string& path, std::vector<TensorSpec> specs,
                            const std::map<std::string, std::string>& metadata = {});
    ~SafetensorsStreamWriter();
    SafetensorsStreamWriter(const SafetensorsStreamWriter&) = delete;
    SafetensorsStreamWriter& operator=(const SafetensorsStreamWriter&) = delete;

    // The next tensor whole; throws Error when its name, dtype or shape is not the next spec's.
    void write(const std::string& name, const at::Tensor& t);
    // Bytes of the next tensor(s) in order; may split or span tensors.
    void writeBytes(const void* data, size_t bytes);
    void commit();
    uint64_t totalBytes() const; // header + data

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// The header bytes (length prefix + JSON padded to 8) of specs laid out in order.
std::string safetensorsHeader(const std::vector<TensorSpec>& specs, const std::map<std::string, std::string>& metadata);

} // namespace mq::core
