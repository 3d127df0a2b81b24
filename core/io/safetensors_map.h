#pragma once
// safetensors files without LibTorch: a little-endian u64 header length, a JSON header, then raw
// tensor bytes. SafetensorsMap maps the file read-only and validates the whole header up front
// (dtype, shape x dtype size == byte range, ranges inside the data section, no overlap, no gap);
// the tensors' bytes are then read in place. SafetensorsFile (safetensors.h) adds LibTorch
// tensors on top; the launcher's evaluation of small models (eval/plain_eval.h) reads the bytes.
// Thread-safety: const methods may be called concurrently.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mq::core {

// F8_E4M3 (float8_e4m3fn) is held as raw bytes: its values are decoded by quant/formats.h
// (fmt::e4m3Decode); it is not a floating dtype here.
enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, F8_E4M3 };
inline constexpr DType kAllDTypes[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32,
                                       DType::I16, DType::I8,  DType::U8,   DType::BOOL, DType::F8_E4M3};

const char* dtypeName(DType t);       // "F32", ...
size_t dtypeSize(DType t);            // bytes per element
bool parseDType(const std::string& s, DType* out);
std::string dtypeList();              // "F32, F16, ..."
bool isFloatingDType(DType t);        // F32, F16, BF16, F64
// "[3, 4]" (safetensors.h has it for LibTorch's sizes too).
std::string shapeText(const int64_t* dims, size_t count);
// Byte size of shape x dtype; false when it does not fit in 64 bits (a hostile header).
bool safetensorsByteSize(const std::vector<int64_t>& shape, DType t, uint64_t* out);

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // offsets relative to the data section
    uint64_t end = 0;
    int64_t numel() const;
};

class SafetensorsMap {
public:
    // Throws InputError naming the file (and tensor) when the file is missing or malformed.
    explicit SafetensorsMap(const std::string& path);
    ~SafetensorsMap();
    SafetensorsMap(const SafetensorsMap&) = delete;
    SafetensorsMap& operator=(const SafetensorsMap&) = delete;

    const std::string& path() const { return m_path; }
    const std::map<std::string, TensorInfo>& tensors() const { return m_tensors; }
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    bool contains(const std::string& name) const { return m_tensors.count(name) != 0; }
    const TensorInfo& info(const std::string& name) const; // throws InputError if absent
    // The tensor's bytes in the mapped file (info(name).end - begin of them; no alignment
    // guarantee). Valid while this object lives.
    const uint8_t* bytes(const std::string& name) const;
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

} // namespace mq::core
