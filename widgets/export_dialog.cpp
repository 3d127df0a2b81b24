#include "export_dialog.h"

#include "display_names.h"

#include "common/progress.h"
#include "job_controller.h"
#include "export/export_format.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace mq::ui {

ExportDialog::ExportDialog(const core::Session& session, JobController* jobs, Starter starter, QWidget* parent)
    : QDialog(parent), m_session{session.settings, session.modules, session.evals}, m_jobs(jobs),
      m_starter(std::move(starter))
{
    setWindowTitle(tr("Export Quantized Model"));
    m_format = new QComboBox(this);
    m_format->addItem(tr("morphoquant-sim: float32 weights on the quantization grid, activation bounds and DABC "
                         "masks as tensors"),
                      int(core::ExportFormat::MorphoquantSim));
    m_format->addItem(tr("compressed-tensors: packed INT4/INT8 weights (W4A16, W8A16, INT W4A4, W8A8)"),
                      int(core::ExportFormat::CompressedTensors));
    m_format->addItem(tr("nvfp4: nvfp4-pack-quantized (NVFP4 weights, NVFP4 or 16-bit activations)"),
                      int(core::ExportFormat::Nvfp4));
    m_format->addItem(tr("morphoquant: packed int weights, static per-channel activation scales, DABC masks"),
                      int(core::ExportFormat::Morphoquant));
    m_format->setToolTip(tr("Every format is read back by morphoquant-cli eval --model FOLDER; packed formats are "
                            "checked against vLLM's loading rules before they are renamed into place."));
    m_servedBy = new QLabel(this);
    m_servedBy->setWordWrap(true);
    m_refusal = new QLabel(this);
    m_refusal->setWordWrap(true);
    m_refusal->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_folder = new QLineEdit(this);
    const QString model = QString::fromStdString(session.model.path);
    const QString base = QFileInfo(model).fileName().isEmpty() ? QStringLiteral("model") : QFileInfo(model).fileName();
    const QString suffix = session.settings ? QStringLiteral("-w%1a%2")
                                                  .arg(session.settings->weight.format == core::WeightFormat::None
                                                           ? 16
                                                           : session.settings->weight.bits)
                                                  .arg(session.settings->abits)
                                            : QString();
    m_folderBase = QDir::current().absoluteFilePath(base + suffix);
    m_folder->setText(m_folderBase + QStringLiteral("-morphoquant-sim"));
    auto* browse = new QToolButton(this);
    browse->setText(QStringLiteral("..."));
    browse->setToolTip(tr("Choose the folder to write"));
    connect(browse, &QToolButton::clicked, this, &ExportDialog::browse);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    m_overwrite = new QCheckBox(tr("Replace the folder if it exists"), this);

    auto* plan = new QLabel(this);
    plan->setWordWrap(true);
    plan->setText(session.settings ? tr("Plan: %1").arg(QString::fromStdString(session.settings->label()))
                                   : tr("This session has no quantization plan: quantize first."));

    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setMinimumHeight(80);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    m_buttons = new QDialogButtonBox(this);
    m_export = m_buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    m_cancel = m_buttons->addButton(tr("Cancel Export"), QDialogButtonBox::ActionRole);
    m_buttons->addButton(QDialogButtonBox::Close);
    connect(m_export, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancel, &QPushButton::clicked, this, [this] { m_jobs->cancel(); });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    // Accept is not connected: the dialog stays to show the summary.
    disconnect(m_buttons, &QDialogButtonBox::accepted, nullptr, nullptr);

    auto* form = new QFormLayout;
    form->addRow(tr("Format:"), m_format);
    form->addRow(tr("Served by:"), m_servedBy);
    form->addRow(QString(), m_refusal);
    form->addRow(tr("Folder:"), folderRow);
    form->addRow(QString(), m_overwrite);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(plan);
    layout->addLayout(form);
    layout->addWidget(m_bar);
    layout->addWidget(m_summary, 1);
    layout->addWidget(m_buttons);
    resize(720, 400);
    connect(m_format, qOverload<int>(&QComboBox::currentIndexChanged), this, &ExportDialog::formatChanged);
    // The plan's natural format: NVFP4 weights -> nvfp4; otherwise the first that can hold it
    // among compressed-tensors and morphoquant, else morphoquant-sim.
    if (session.settings) {
        const core::QuantSettings& st = *session.settings;
        for (core::ExportFormat f : {core::ExportFormat::Nvfp4, core::ExportFormat::CompressedTensors,
                                     core::ExportFormat::Morphoquant})
            if (core::exportRefusal(st, f, session.modules).empty()) {
                m_format->setCurrentIndex(m_format->findData(int(f)));
                break;
            }
    }
    formatChanged();

    connect(m_jobs, &JobController::progress, this, [this](const QString&, double f, const QString& msg, double) {
        if (!m_running)
            return;
        m_bar->setValue(int(std::lround(std::clamp(f, 0.0, 1.0) * 1000.0)));
        m_summary->setText(msg);
    });
    connect(m_jobs, &JobController::finished, this,
            [this](const QString&, const std::shared_ptr<core::Session>&, const QString&, double seconds) {
                if (!m_running)
                    return;
                m_running = false;
                m_done = true;
                m_bar->setValue(1000);
                const core::ExportReport& r = *m_report;
                QString text = tr("Wrote %1\n%2, %3 tensors, %4 MB in %5\n%6\nDABC compensates %7 of %8 input channels")
                                   .arg(QString::fromStdString(r.dir), QString::fromStdString(r.representation))
                                   .arg(r.tensors)
                                   .arg(double(r.bytes) / 1e6, 0, 'f', 2)
                                   .arg(QString::fromStdString(core::formatDuration(seconds)),
                                        QString::fromStdString(r.label))
                                   .arg(r.maskedChannels)
                                   .arg(r.totalChannels);
                if (r.checked)
                    text += r.scheme.empty()
                        ? tr("\nCheck: passes the loading rules; no vLLM scheme serves it (%1)")
                              .arg(QString::fromStdString(r.schemeWhy))
                        : tr("\nCheck: passes the loading rules; vLLM serves it with %1")
                              .arg(QString::fromStdString(r.scheme));
                for (const core::EvalResult& e : m_session.evals)
                    text += tr("\n%1: perplexity %2 on %3")
                                .arg(evalLabel(e.label))
                                .arg(e.ppl, 0, 'f', 4)
                                .arg(QFileInfo(QString::fromStdString(e.data)).fileName());
                m_summary->setText(text);
                updateButtons();
            });
    connect(m_jobs, &JobController::cancelled, this, [this](const QString&, double) {
        if (!m_running)
            return;
        m_running = false;
        m_bar->setValue(0);
        m_summary->setText(tr("Export cancelled; nothing was written."));
        updateButtons();
    });
    connect(m_jobs, &JobController::failed, this, [this](const QString&, const QString& message, double) {
        if (!m_running)
            return;
        m_running = false;
        m_bar->setValue(0);
        m_summary->setText(tr("Export failed: %1").arg(message));
        updateButtons();
    });
    updateButtons();
}

void ExportDialog::browse()
{
    const QString dir = QFileDialog::getSaveFileName(this, tr("Export Folder"), m_folder->text(), QString(), nullptr,
                                                     QFileDialog::ShowDirsOnly);
    if (!dir.isEmpty())
        m_folder->setText(dir);
}

core::ExportFormat ExportDialog::format() const
{
    return core::ExportFormat(m_format->currentData().toInt());
}

void ExportDialog::formatChanged()
{
    const core::ExportFormat f = format();
    m_servedBy->setText(QString::fromStdString(core::exportFormatServedBy(f)));
    std::string why = m_session.settings ? core::exportRefusal(*m_session.settings, f, m_session.modules) : std::string();
    const std::string prefix = std::string("--export-format ") + core::exportFormatName(f) + ": ";
    if (why.rfind(prefix, 0) == 0) // the CLI's prefix; the label names the format already
        why = why.substr(prefix.size());
    m_refusal->setText(why.empty() ? QString() : tr("This plan cannot be written as %1: %2")
                                                     .arg(QString::fromLatin1(core::exportFormatName(f)),
                                                          QString::fromStdString(why)));
    m_refusal->setVisible(!why.empty());
    // Follow the format in the suggested folder name unless the user typed another one.
    const QString text = m_folder->text();
    if (text.startsWith(m_folderBase + QStringLiteral("-")))
        m_folder->setText(m_folderBase + QStringLiteral("-") + QString::fromLatin1(core::exportFormatName(f)));
    updateButtons();
}

void ExportDialog::startExport()
{
    if (m_running || !m_session.settings)
        return;
    const QString dir = m_folder->text().trimmed();
    if (dir.isEmpty()) {
        m_summary->setText(tr("Choose a folder to write."));
        return;
    }
    m_report = std::make_shared<core::ExportReport>();
    m_done = false;
    if (!core::exportRefusal(*m_session.settings, format(), m_session.modules).empty())
        return;
    if (!m_starter(dir, m_overwrite->isChecked(), format(), m_report)) {
        m_summary->setText(tr("Another job is running; wait for it or cancel it first."));
        return;
    }
    m_running = true;
    m_bar->setValue(0);
    m_summary->setText(tr("Exporting..."));
    updateButtons();
}

void ExportDialog::updateButtons()
{
    m_export->setEnabled(!m_running && m_session.settings.has_value()
                         && core::exportRefusal(*m_session.settings, format(), m_session.modules).empty());
    m_format->setEnabled(!m_running);
    m_cancel->setEnabled(m_running);
    m_folder->setEnabled(!m_running);
    m_overwrite->setEnabled(!m_running);
}

} // namespace mq::ui
