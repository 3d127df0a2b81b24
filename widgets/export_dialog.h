#pragma once
// Export of the session's quantized model: the format (morphoquant-sim, compressed-tensors,
// nvfp4, morphoquant; export/export_format.h) with what serves each one and whether the plan can
// be written in it (the reason when not), where, and whether an existing folder may be replaced;
// the export runs as a job (progress and Cancel in the dialog too) and ends with a summary of
// what was written, check-export's verdict (the vLLM scheme, or why none) and the session's
// figures.
#include <QDialog>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace mq::ui {

class JobController;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // Starts the export job; returns false when it could not start (another job runs).
    using Starter = std::function<bool(const QString& dir, bool overwrite, core::ExportFormat format,
                                       std::shared_ptr<core::ExportReport> report)>;

    ExportDialog(const core::Session& session, JobController* jobs, Starter starter, QWidget* parent = nullptr);

    QLineEdit* folderEdit() const { return m_folder; }
    QCheckBox* overwriteBox() const { return m_overwrite; }
    QComboBox* formatBox() const { return m_format; }
    // What serves the chosen format, and why the plan cannot be written in it (empty when it can).
    QLabel* servedByLabel() const { return m_servedBy; }
    QLabel* refusalLabel() const { return m_refusal; }
    core::ExportFormat format() const;
    QPushButton* exportButton() const { return m_export; }
    QLabel* summaryLabel() const { return m_summary; }
    QProgressBar* progressBar() const { return m_bar; }
    // The report of the last finished export (nullptr before).
    const core::ExportReport* report() const { return m_done ? m_report.get() : nullptr; }

    // Starts the export with the values in the controls (the Export button).
    void startExport();

private:
    void browse();
    void updateButtons();
    void formatChanged();

    // What the dialog reads of the session, copied: the window may replace its session while the
    // dialog lives (a job's result), and a reference would dangle (the GPTQ weights and the
    // statistics are not copied: the dialog never reads them).
    struct Plan {
        std::optional<core::QuantSettings> settings;
        std::vector<core::ModuleInfo> modules;
        std::vector<core::EvalResult> evals;
    };
    Plan m_session;
    JobController* m_jobs;
    Starter m_starter;
    std::shared_ptr<core::ExportReport> m_report;
    bool m_done = false;
    bool m_running = false;
    QComboBox* m_format = nullptr;
    QLineEdit* m_folder = nullptr;
    QString m_folderBase; // the suggested folder without its format suffix
    QCheckBox* m_overwrite = nullptr;
    QLabel* m_servedBy = nullptr;
    QLabel* m_refusal = nullptr;
    QProgressBar* m_bar = nullptr;
    QLabel* m_summary = nullptr;
    QPushButton* m_export = nullptr;
    QPushButton* m_cancel = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

} // namespace mq::ui
