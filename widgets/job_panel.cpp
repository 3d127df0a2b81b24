#include "job_panel.h"

#include "common/progress.h"
#include "job_controller.h"

#include <QDateTime>
#include <QGridLayout>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QStyle>
#include <QTimer>

namespace mq::ui {

namespace {
QString stageName(const QString& stage)
{
    if (stage == QLatin1String("open"))
        return JobPanel::tr("loading the model");
    if (stage == QLatin1String("calibrate"))
        return JobPanel::tr("calibration");
    if (stage == QLatin1String("mdqfo"))
        return JobPanel::tr("MDQFO");
    if (stage == QLatin1String("errors"))
        return JobPanel::tr("layer errors");
    if (stage == QLatin1String("eval"))
        return JobPanel::tr("evaluation");
    if (stage == QLatin1String("export"))
        return JobPanel::tr("export");
    return stage;
}
} // namespace

JobPanel::JobPanel(JobController* jobs, QWidget* parent) : QWidget(parent), m_jobs(jobs)
{
    m_title = new QLabel(this);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_stage = new QLabel(this);
    m_stage->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_eta = new QLabel(this);
    m_eta->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_cancel = new QPushButton(style()->standardIcon(QStyle::SP_BrowserStop), tr("Cancel"), this);
    m_cancel->setToolTip(tr("Stop the job; the session stays as it was before the job (Esc)"));
    m_cancel->setShortcut(QKeySequence(Qt::Key_Escape));
    m_log = new QListWidget(this);
    m_log->setAlternatingRowColors(true);

    auto* grid = new QGridLayout(this);
    grid->addWidget(m_title, 0, 0, 1, 2);
    grid->addWidget(m_eta, 0, 2);
    grid->addWidget(m_bar, 1, 0, 1, 2);
    grid->addWidget(m_cancel, 1, 2);
    grid->addWidget(m_stage, 2, 0, 1, 3);
    grid->addWidget(m_log, 3, 0, 1, 3);
    grid->setColumnStretch(0, 1);
    grid->setRowStretch(3, 1);

    connect(m_cancel, &QPushButton::clicked, m_jobs, [this] {
        m_jobs->cancel();
        m_stage->setText(tr("Cancelling..."));
        m_cancel->setEnabled(false);
    });
    m_tick = new QTimer(this);
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &JobPanel::tick);
    connect(m_jobs, &JobController::started, this, &JobPanel::onStarted);
    connect(m_jobs, &JobController::progress, this, &JobPanel::onProgress);
    connect(m_jobs, &JobController::finished, this,
            [this](const QString& title, const std::shared_ptr<core::Session>&, const QString& summary, double s) {
                addLog(tr("%1 finished in %2: %3").arg(title, QString::fromStdString(core::formatDuration(s)), summary),
                       QStringLiteral("ok"));
                setIdle();
            });
    connect(m_jobs, &JobController::cancelled, this, [this](const QString& title, double s) {
        addLog(tr("%1 cancelled after %2; the session is unchanged")
                   .arg(title, QString::fromStdString(core::formatDuration(s))),
               QStringLiteral("cancel"));
        setIdle();
    });
    connect(m_jobs, &JobController::failed, this, [this](const QString& title, const QString& message, double) {
        addLog(tr("%1 failed: %2").arg(title, message), QStringLiteral("error"));
        setIdle();
    });
    setIdle();
}

void JobPanel::onStarted(const QString& title)
{
    m_title->setText(title);
    m_stage->setText(tr("Starting: %1").arg(title));
    m_eta->setText(tr("estimating..."));
    m_clock.start();
    m_currentStage.clear();
    m_haveEta = false;
    m_tick->start();
    addLog(tr("%1 started").arg(title), QStringLiteral("stage"));
    m_bar->setValue(0);
    m_bar->setEnabled(true);
    m_cancel->setEnabled(true);
}

void JobPanel::onProgress(const QString& stage, double fraction, const QString& message, double eta)
{
    m_bar->setValue(int(std::lround(std::clamp(fraction, 0.0, 1.0) * 1000.0)));
    m_bar->setFormat(QStringLiteral("%1 %p%").arg(stageName(stage)));
    m_stage->setText(message.isEmpty() ? stageName(stage) : tr("%1: %2").arg(stageName(stage), message));
    m_haveEta = eta >= 0;
    if (m_haveEta)
        m_eta->setText(tr("%1 left").arg(QString::fromStdString(core::formatDuration(eta))));
    else
        tick();
    if (stage != m_currentStage) { // the log lists each stage as it begins
        m_currentStage = stage;
        addLog(QStringLiteral("  ") + stageName(stage), QStringLiteral("stage"));
    }
}

void JobPanel::tick()
{
    if (!m_haveEta && m_clock.isValid())
        m_eta->setText(tr("%1 elapsed, estimating...")
                           .arg(QString::fromStdString(core::formatDuration(double(m_clock.elapsed()) / 1000.0))));
}

void JobPanel::addLog(const QString& text, const QString& icon)
{
    const QStyle::StandardPixmap pix = icon == QLatin1String("ok")       ? QStyle::SP_DialogApplyButton
                                       : icon == QLatin1String("cancel") ? QStyle::SP_BrowserStop
                                       : icon == QLatin1String("stage")  ? QStyle::SP_ArrowRight
                                                                          : QStyle::SP_MessageBoxCritical;
    auto* item = new QListWidgetItem(style()->standardIcon(pix),
                                     QStringLiteral("%1  %2").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), text));
    item->setToolTip(text);
    m_log->insertItem(0, item);
}

void JobPanel::setIdle()
{
    if (m_tick)
        m_tick->stop();
    m_clock.invalidate();
    m_title->setText(tr("No job running"));
    m_stage->setText(tr("Calibrate, quantize, evaluate and export from the Study menu."));
    m_eta->clear();
    m_bar->setValue(0);
    m_bar->setFormat(QStringLiteral("%p%"));
    m_bar->setEnabled(false);
    m_cancel->setEnabled(false);
}

} // namespace mq::ui
