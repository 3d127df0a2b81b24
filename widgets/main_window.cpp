#include "main_window.h"

#include "io/session_store.h"

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

namespace mq::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("MorphoQuant Workbench"));
    resize(1200, 800);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Session..."), this, &MainWindow::openSessionDialog);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About MorphoQuant Workbench"), this, &MainWindow::showAbout);

    m_summary = new QLabel(tr("Open a session (.mqs) made by morphoquant-cli quantize --session."), this);
    m_summary->setAlignment(Qt::AlignCenter);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    setCentralWidget(m_summary);
    statusBar()->showMessage(tr("Ready"));
}

bool MainWindow::openSession(const QString& path, bool quiet)
{
    try {
        const core::Session s = core::loadSession(path.toStdString());
        int64_t masked = 0;
        for (const auto& [g, p] : s.plans)
            for (uint8_t b : p.mask)
                masked += b;
        QString text = tr("Session %1\nModel %2 (%3)\n%4 Linear modules in %5 input groups\n%6 calibration tokens")
                           .arg(path, QString::fromStdString(s.model.path), QString::fromStdString(s.model.architecture))
                           .arg(s.modules.size())
                           .arg(s.groups.size())
                           .arg(s.calibration.totalTokens());
        if (s.settings)
            text += tr("\nPlan: %1, %2 channels compensated by DABC")
                        .arg(QString::fromStdString(s.settings->label()))
                        .arg(masked);
        for (const auto& e : s.evals)
            text += tr("\n%1: perplexity %2").arg(QString::fromStdString(e.label)).arg(e.ppl, 0, 'f', 4);
        m_summary->setText(text);
        statusBar()->showMessage(tr("Opened %1").arg(path));
        return true;
    } catch (const std::exception& e) {
        if (!quiet)
            QMessageBox::critical(this, tr("Cannot open session"), QString::fromStdString(e.what()));
        statusBar()->showMessage(tr("Could not open %1").arg(path));
        return false;
    }
}

void MainWindow::openSessionDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), QString(),
                                                      tr("MorphoQuant sessions (*.mqs);;All files (*)"));
    if (!path.isEmpty())
        openSession(path);
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About MorphoQuant Workbench"),
                       tr("MorphoQuant Workbench %1\nModality-aware 4-bit post-training quantization "
                          "(DABC + MDQFO).")
                           .arg(QStringLiteral(PROJECT_VERSION_STRING)));
}

} // namespace mq::ui
