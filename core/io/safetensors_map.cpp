#include "io/safetensors_map.h"

#include "common/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mq::core {

namespace {

using nlohmann::json;

std::string rangeText(uint64_t begin, uint64_t end)
{
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

TensorInfo parseEntry(const std::string& file, const std::string& name, const json& e,
                      uint64_t dataSize)
{
    auto fail = [&](const std::string& what) { return InputError(describe(file, name, what)); };
    if (!e.is_object())
        throw fail("header entry is " + std::string(e.type_name())
                   + ", expected an object with dtype, shape and data_offsets");

    TensorInfo info;
    info.name = name;

    auto dt = e.find("dtype");
    if (dt == e.end())
        throw fail("missing \"dtype\" (expected one of " + dtypeList() + ")");
    if (!dt->is_string() || !parseDType(dt->get<std::string>(), &info.dtype))
        throw fail("unknown dtype " + dt->dump() + " (expected one of " + dtypeList() + ")");

    auto sh = e.find("shape");
    if (sh == e.end())
        throw fail("missing \"shape\" (expected an array of non-negative integers)");
    if (!sh->is_array())
        throw fail("\"shape\" is " + sh->dump() + ", expected an array of non-negative integers");
    for (const json& d : *sh) {
        if (!d.is_number_integer())
            throw fail("\"shape\" " + sh->dump() + " holds " + d.dump()
                       + ", expected non-negative integers");
        if (d.is_number_unsigned()) {
            if (d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                throw fail("dimension " + d.dump() + " in \"shape\" is too large");
        } else if (d.get<int64_t>() < 0) {
            throw fail("negative dimension " + d.dump() + " in \"shape\" " + sh->dump()
                       + ", expected non-negative integers");
        }
        info.shape.push_back(d.get<int64_t>());
    }

    auto off = e.find("data_offsets");
    if (off == e.end())
        throw fail("missing \"data_offsets\" (expected [begin, end])");
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned()
        || !(*off)[1].is_number_unsigned() || (*off)[0].get<uint64_t>() > (*off)[1].get<uint64_t>())
        throw fail("\"data_offsets\" is " + off->dump()
                   + ", expected two ascending non-negative integers [begin, end]");
    info.begin = (*off)[0].get<uint64_t>();
    info.end = (*off)[1].get<uint64_t>();
    if (info.end > dataSize)
        throw fail("\"data_offsets\" " + rangeText(info.begin, info.end)
                   + " run past the end of the data section (" + std::to_string(dataSize)
                   + " bytes)");

    uint64_t expected = 0;
    const bool fits = safetensorsByteSize(info.shape, info.dtype, &expected);
    if (!fits || expected != info.end - info.begin)
        throw fail("shape " + shapeText(info.shape.data(), info.shape.size()) + " x " + dtypeName(info.dtype) + " ("
                   + std::to_string(dtypeSize(info.dtype)) + " bytes each) needs "
                   + (fits ? std::to_string(expected) : std::string("more than 2^64"))
                   + " bytes, but \"data_offsets\" " + rangeText(info.begin, info.end) + " cover "
                   + std::to_string(info.end - info.begin));
    return info;
}

void parseMetadata(const std::string& file, const json& m, std::map<std::string, std::string>* out)
{
    if (!m.is_object())
        throw InputError(describe(file, "", "\"__metadata__\" is " + std::string(m.type_name())
                                                + ", expected an object of string values"));
    for (auto it = m.begin(); it != m.end(); ++it) {
        if (!it->is_string())
            throw InputError(describe(file, "", "\"__metadata__\" key \"" + it.key() + "\" is "
                                                    + it->dump() + ", expected a string"));
        (*out)[it.key()] = it->get<std::string>();
    }
}

// Rejects two tensors that claim the same bytes (a writer bug that would silently alias them),
// and a data section the tensors do not cover exactly, from byte 0 to its end without a gap: a
// header length a few bytes off still parses (the JSON padding absorbs it) but shifts every
// tensor, and a truncated or padded file leaves bytes no tensor owns. Both would read wrong
// numbers silently; the reference implementation refuses them too.
void checkLayout(const std::string& file, const std::map<std::string, TensorInfo>& tensors, uint64_t dataSize)
{
    std::vector<const TensorInfo*> byBegin;
    for (const auto& [name, info] : tensors) {
        if (info.end > info.begin) // empty tensors own no bytes
            byBegin.push_back(&info);
    }
    std::sort(byBegin.begin(), byBegin.end(), [](const TensorInfo* a, const TensorInfo* b) {
        return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
    });
    const TensorInfo* reach = nullptr; // the tensor reaching furthest so far
    for (const TensorInfo* t : byBegin) {
        if (reach && t->begin < reach->end)
            throw InputError(describe(file, t->name, "\"data_offsets\" " + rangeText(t->begin, t->end)
                                                         + " overlap those of tensor '" + reach->name
                                                         + "' " + rangeText(reach->begin, reach->end)));
        const uint64_t expected = reach ? reach->end : 0;
        if (t->begin != expected)
            throw InputError(describe(file, t->name,
                                      "\"data_offsets\" " + rangeText(t->begin, t->end) + " leave bytes "
                                          + rangeText(expected, t->begin)
                                          + " of the data section to no tensor; expected it to start at "
                                          + std::to_string(expected)
                                          + " (a wrong header length or a damaged header shifts every tensor)"));
        if (!reach || t->end > reach->end)
            reach = t;
    }
    const uint64_t end = reach ? reach->end : 0;
    if (end != dataSize)
        throw InputError(describe(file, reach ? reach->name : "",
                                  "the tensors end at byte " + std::to_string(end) + " of the data section, which holds "
                                      + std::to_string(dataSize)
                                      + " bytes: the header length or the file size is wrong (a truncated, padded "
                                        "or damaged file); nothing was read"));
}

} // namespace

const char* dtypeName(DType t)
{
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
    case DType::F8_E4M3: return "F8_E4M3";
    }
    return "?";
}

size_t dtypeSize(DType t)
{
    switch (t) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16:
        return 2;
    case DType::I8:
    case DType::U8:
    case DType::BOOL:
    case DType::F8_E4M3:
        return 1;
    }
    return 0;
}

bool parseDType(const std::string& s, DType* out)
{
    for (DType t : kAllDTypes) {
        if (s == dtypeName(t)) {
            *out = t;
            return true;
        }
    }
    return false;
}

std::string dtypeList()
{
    std::string out;
    for (DType t : kAllDTypes) {
        if (!out.empty())
            out += ", ";
        out += dtypeName(t);
    }
    return out;
}

std::string shapeText(const int64_t* dims, size_t count)
{
    std::string out = "[";
    for (size_t i = 0; i < count; ++i)
        out += (i ? ", " : "") + std::to_string(dims[i]);
    return out + "]";
}

bool isFloatingDType(DType t)
{
    return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64;
}

bool safetensorsByteSize(const std::vector<int64_t>& shape, DType t, uint64_t* out)
{
    uint64_t n = dtypeSize(t);
    for (int64_t d : shape) {
        if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
            return false;
    }
    *out = n;
    return true;
}

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

SafetensorsMap::SafetensorsMap(const std::string& path) : m_path(path)
{
    m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m_fd < 0) {
        const int err = errno;
        throw InputError(describe(path, "", std::string("cannot open safetensors file: ")
                                                + std::strerror(err)));
    }
    // The constructor may throw below, and then no destructor runs: release by hand.
    auto release = [this] {
        if (m_map)
            ::munmap(const_cast<uint8_t*>(m_map), m_size);
        m_map = nullptr;
        ::close(m_fd);
        m_fd = -1;
    };
    try {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            const int err = errno;
            throw InputError(describe(path, "", std::string("cannot stat: ") + std::strerror(err)));
        }
        if (!S_ISREG(st.st_mode))
            throw InputError(describe(path, "", "not a regular file"));
        m_size = size_t(st.st_size);
        if (m_size < 8)
            throw InputError(describe(path, "", "file is " + std::to_string(m_size)
                                                    + " bytes, shorter than the 8-byte header length"
                                                      " that starts a safetensors file"));
        void* p = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, m_fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            throw InputError(describe(path, "", std::string("cannot mmap: ") + std::strerror(err)));
        }
        m_map = static_cast<const uint8_t*>(p);

        uint64_t headerLen = 0;
        for (int i = 0; i < 8; ++i)
            headerLen |= uint64_t(m_map[i]) << (8 * i);
        if (headerLen > m_size - 8)
            throw InputError(describe(path, "", "header length " + std::to_string(headerLen)
                                                    + " runs past the end of the file ("
                                                    + std::to_string(m_size) + " bytes)"));
        m_dataOffset = 8 + size_t(headerLen);
        const uint64_t dataSize = m_size - m_dataOffset;

        json header;
        try {
            header = json::parse(m_map + 8, m_map + m_dataOffset);
        } catch (const json::exception& e) {
            throw InputError(describe(path, "", std::string("header is not valid JSON: ") + e.what()));
        }
        if (!header.is_object())
            throw InputError(describe(path, "", "header is " + std::string(header.type_name())
                                                    + ", expected a JSON object"));
        for (auto it = header.begin(); it != header.end(); ++it) {
            if (it.key() == "__metadata__")
                parseMetadata(path, it.value(), &m_metadata);
            else
                m_tensors.emplace(it.key(), parseEntry(path, it.key(), it.value(), dataSize));
        }
        checkLayout(path, m_tensors, dataSize);
    } catch (...) {
        release();
        throw;
    }
}

SafetensorsMap::~SafetensorsMap()
{
    if (m_map)
        ::munmap(const_cast<uint8_t*>(m_map), m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

const TensorInfo& SafetensorsMap::info(const std::string& name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end())
        throw InputError(describe(m_path, name, "no such tensor in this file"));
    return it->second;
}

const uint8_t* SafetensorsMap::bytes(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    return m_map + m_dataOffset + ti.begin;
}

void SafetensorsMap::release(const std::string& name) const
{
    const TensorInfo& ti = info(name);
    static const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t b = reinterpret_cast<uintptr_t>(m_map + m_dataOffset + ti.begin);
    const uintptr_t e = reinterpret_cast<uintptr_t>(m_map + m_dataOffset + ti.end);
    const uintptr_t first = (b + page - 1) / page * page, last = e / page * page;
    if (last > first) // a hint: failure only means the pages stay resident a while longer
        ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

} // namespace mq::core
