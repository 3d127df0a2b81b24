#pragma once
// Shared by the libFuzzer harnesses (fuzz/README in the project README, "Fuzzing"): the input
// bytes as a file the reader under test opens by path, and the one rule every harness checks:
// a reader may refuse its input with mq::core::Error (InputError included; a clean message),
// anything else (a crash, a sanitizer report, another exception type) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "common/error.h"

namespace mq::fuzz {

// A temporary file holding data (removed in the destructor); `suffix` keeps readers that look at
// extensions (.wav, .png) on their path.
class TempInput {
public:
    TempInput(const uint8_t* data, size_t size, const std::string& suffix = "")
    {
        char dir[] = "/tmp/mqfuzz-XXXXXX";
        const char* d = ::mkdtemp(dir);
        m_dir = d ? d : "/tmp";
        m_path = m_dir + "/input" + suffix;
        if (FILE* f = std::fopen(m_path.c_str(), "wb")) {
            if (size)
                std::fwrite(data, 1, size, f);
            std::fclose(f);
        }
    }
    ~TempInput()
    {
        std::remove(m_path.c_str());
        ::rmdir(m_dir.c_str());
    }
    const std::string& path() const { return m_path; }
    const std::string& dir() const { return m_dir; }

private:
    std::string m_dir, m_path;
};

// The input as a file (suffix kept) handed to read(path); a clean refusal (mq::core::Error) is
// an accepted outcome.
template <class Read> int readAsFile(const uint8_t* data, size_t size, const char* suffix, Read&& read)
{
    TempInput in(data, size, suffix);
    try {
        read(in.path());
    } catch (const mq::core::Error&) {
    }
    return 0;
}

} // namespace mq::fuzz
