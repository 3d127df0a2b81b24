<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja">
<context>
    <name>main</name>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <source>Save a 1400x900 picture of the window to &lt;png&gt; and exit.</source>
        <translation>1400x900 のウィンドウ画像を &lt;png&gt; に保存して終了します。</translation>
    </message>
    <message>
        <source>Bring these views to the front (comma-separated: %1).</source>
        <translation>これらのビューを前面に表示します（カンマ区切り：%1）。</translation>
    </message>
    <message>
        <source>Select this input group (e.g. layers.1.o_in) in every view.</source>
        <translation>すべてのビューでこの入力グループ（例：layers.1.o_in）を選択します。</translation>
    </message>
    <message>
        <source>Session file (.mqs) or model folder to open.</source>
        <translation>開くセッションファイル（.mqs）またはモデルフォルダー。</translation>
    </message>
    <message>
        <source>Window size of --screenshot (default 1400x900).</source>
        <translation>--screenshot のウィンドウサイズ（既定 1400x900）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::DispersionHeatmapView</name>
    <message>
        <source>mask differs</source>
        <translation>マスクが異なる</translation>
    </message>
    <message>
        <source>Dispersion score D&lt;sub&gt;c&lt;/sub&gt;:</source>
        <translation>分散スコア D&lt;sub&gt;c&lt;/sub&gt;：</translation>
    </message>
    <message>
        <source>code: |max−min| / log(1 + mean|x| + 1e-5)</source>
        <translation>コード：|max−min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <source>paper: |max−min| / log(‖X_c‖₁ + eps)</source>
        <translation>論文：|max−min| / log(‖X_c‖₁ + eps)</translation>
    </message>
    <message>
        <source>input channel</source>
        <translation>入力チャネル</translation>
    </message>
    <message>
        <source>input group</source>
        <translation>入力グループ</translation>
    </message>
    <message>
        <source>group %1
channel %2
D_c = %3</source>
        <translation>グループ %1
チャネル %2
D_c = %3</translation>
    </message>
    <message>
        <source>
(each column shows the largest D_c of %1 channels; zoom in to see each one)</source>
        <translation>
（各列は %1 チャネルのうち最大の D_c を示します。拡大すると各チャネルを表示）</translation>
    </message>
    <message>
        <source>Tokens:</source>
        <translation>トークン:</translation>
    </message>
    <message>
        <source>D_c (%1)</source>
        <translation>D_c（%1）</translation>
    </message>
</context>
<context>
    <name>mq::ui::ExportDialog</name>
    <message>
        <source>morphoquant-sim: float32 weights on the quantization grid, activation bounds and DABC masks as tensors</source>
        <translation>morphoquant-sim：量子化グリッド上の float32 重み、活性化の範囲と DABC マスクをテンソルとして保存</translation>
    </message>
    <message>
        <source>compressed-tensors: packed INT4/INT8 weights (W4A16, W8A16, INT W4A4, W8A8)</source>
        <translation>compressed-tensors：パック済み INT4/INT8 重み（W4A16、W8A16、INT W4A4、W8A8）</translation>
    </message>
    <message>
        <source>nvfp4: nvfp4-pack-quantized (NVFP4 weights, NVFP4 or 16-bit activations)</source>
        <translation>nvfp4：nvfp4-pack-quantized（NVFP4 重み、NVFP4 または 16 ビット活性化）</translation>
    </message>
    <message>
        <source>morphoquant: packed int weights, static per-channel activation scales, DABC masks</source>
        <translation>morphoquant：パック済み整数重み、静的チャネル別活性化スケール、DABC マスク</translation>
    </message>
    <message>
        <source>Every format is read back by morphoquant-cli eval --model FOLDER; packed formats are checked against vLLM&apos;s loading rules before they are renamed into place.</source>
        <translation>どの形式も morphoquant-cli eval --model FOLDER で読み戻せます。パック形式は所定の場所へ名前を変える前に vLLM の読み込み規則で検査されます。</translation>
    </message>
    <message>
        <source>Served by:</source>
        <translation>実行環境：</translation>
    </message>
    <message>
        <source>
Check: passes the loading rules; no vLLM scheme serves it (%1)</source>
        <translation>
検査：読み込み規則に合格。これを実行する vLLM スキームはありません（%1）</translation>
    </message>
    <message>
        <source>
Check: passes the loading rules; vLLM serves it with %1</source>
        <translation>
検査：読み込み規則に合格。vLLM は %1 で実行します</translation>
    </message>
    <message>
        <source>This plan cannot be written as %1: %2</source>
        <translation>このプランは %1 として書き出せません：%2</translation>
    </message>
    <message>
        <source>Export Quantized Model</source>
        <translation>量子化モデルをエクスポート</translation>
    </message>
    <message>
        <source>Choose the folder to write</source>
        <translation>書き込み先のフォルダーを選択</translation>
    </message>
    <message>
        <source>Replace the folder if it exists</source>
        <translation>フォルダーが既に存在する場合は置き換える</translation>
    </message>
    <message>
        <source>Plan: %1</source>
        <translation>プラン：%1</translation>
    </message>
    <message>
        <source>This session has no quantization plan: quantize first.</source>
        <translation>このセッションには量子化プランがありません。先に量子化してください。</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>エクスポート</translation>
    </message>
    <message>
        <source>Cancel Export</source>
        <translation>エクスポートをキャンセル</translation>
    </message>
    <message>
        <source>Format:</source>
        <translation>形式：</translation>
    </message>
    <message>
        <source>Folder:</source>
        <translation>フォルダー：</translation>
    </message>
    <message>
        <source>Wrote %1
%2, %3 tensors, %4 MB in %5
%6
DABC compensates %7 of %8 input channels</source>
        <translation>%1 に書き込みました
%2、テンソル %3 個、%4 MB、所要時間 %5
%6
DABC は入力チャネル %8 個のうち %7 個を補償</translation>
    </message>
    <message>
        <source>
%1: perplexity %2 on %3</source>
        <translation>
%1：%3 でのパープレキシティ %2</translation>
    </message>
    <message>
        <source>Export cancelled; nothing was written.</source>
        <translation>エクスポートをキャンセルしました。何も書き込まれていません。</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>エクスポートに失敗しました：%1</translation>
    </message>
    <message>
        <source>Export Folder</source>
        <translation>エクスポート先フォルダー</translation>
    </message>
    <message>
        <source>Choose a folder to write.</source>
        <translation>書き込み先のフォルダーを選択してください。</translation>
    </message>
    <message>
        <source>Another job is running; wait for it or cancel it first.</source>
        <translation>別のジョブが実行中です。完了を待つか、先にキャンセルしてください。</translation>
    </message>
    <message>
        <source>Exporting...</source>
        <translation>エクスポートしています...</translation>
    </message>
</context>
<context>
    <name>mq::ui::JobPanel</name>
    <message>
        <source>Starting: %1</source>
        <translation>開始中: %1</translation>
    </message>
    <message>
        <source>%1 started</source>
        <translation>%1 を開始</translation>
    </message>
    <message>
        <source>%1 elapsed, estimating...</source>
        <translation>%1 経過、推定中...</translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation>モデルの読み込み</translation>
    </message>
    <message>
        <source>calibration</source>
        <translation>キャリブレーション</translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation>MDQFO</translation>
    </message>
    <message>
        <source>layer errors</source>
        <translation>レイヤー誤差</translation>
    </message>
    <message>
        <source>evaluation</source>
        <translation>評価</translation>
    </message>
    <message>
        <source>export</source>
        <translation>エクスポート</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>Stop the job; the session stays as it was before the job (Esc)</source>
        <translation>ジョブを停止します。セッションはジョブ開始前の状態のままです（Esc）</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>キャンセルしています...</translation>
    </message>
    <message>
        <source>%1 finished in %2: %3</source>
        <translation>%1 が完了しました（所要時間 %2）：%3</translation>
    </message>
    <message>
        <source>%1 cancelled after %2; the session is unchanged</source>
        <translation>%1 は %2 後にキャンセルされました。セッションは変更されていません</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1 に失敗しました：%2</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>開始しています...</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>estimating...</source>
        <translation>推定しています...</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>残り %1</translation>
    </message>
    <message>
        <source>No job running</source>
        <translation>実行中のジョブはありません</translation>
    </message>
    <message>
        <source>Calibrate, quantize, evaluate and export from the Study menu.</source>
        <translation>「研究」メニューからキャリブレーション、量子化、評価、エクスポートを実行できます。</translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorModel</name>
    <message>
        <source>%1
input group %2</source>
        <translation>%1
入力グループ %2</translation>
    </message>
    <message>
        <source>Out of date: measured under an earlier plan. %1, %2 tokens: SQNR %3 dB, cosine %4</source>
        <translation>古い結果です：以前のプランで測定されました。%1、%2 トークン：SQNR %3 dB、コサイン %4</translation>
    </message>
    <message>
        <source>%1, %2 tokens: SQNR %3 dB, cosine %4</source>
        <translation>%1、%2 トークン：SQNR %3 dB、コサイン %4</translation>
    </message>
    <message>
        <source>Mean cosine similarity of the full-precision and quantized outputs, per token</source>
        <translation>完全精度出力と量子化出力のトークンごとのコサイン類似度の平均</translation>
    </message>
    <message>
        <source>Signal to quantization noise ratio of the module&apos;s output: 10 log10(sum |y|^2 / sum |y - yq|^2)</source>
        <translation>モジュール出力の信号対量子化雑音比：10 log10(sum |y|^2 / sum |y - yq|^2)</translation>
    </message>
    <message>
        <source>Module</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>レイヤー</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>cos %1</source>
        <translation>cos %1</translation>
    </message>
    <message>
        <source>SQNR %1 (dB)</source>
        <translation>SQNR %1 (dB)</translation>
    </message>
</context>
<context>
    <name>mq::ui::LayerErrorView</name>
    <message>
        <source>the layer errors</source>
        <translation>レイヤー誤差</translation>
    </message>
    <message>
        <source>the perplexity</source>
        <translation>パープレキシティ</translation>
    </message>
    <message>
        <source> and </source>
        <translation>と</translation>
    </message>
    <message>
        <source>Out of date: %1 were measured under an earlier plan (masks, bounds or settings changed since). Study → Quantize measures the errors again, Study → Evaluate the perplexity.</source>
        <translation>古い結果です：%1 は以前のプランで測定されました（その後マスク、境界または設定が変更されています）。「研究 → 量子化」で誤差を、「研究 → 評価」でパープレキシティを再測定します。</translation>
    </message>
    <message>
        <source>&lt;i&gt;(out of date)&lt;/i&gt;</source>
        <translation>&lt;i&gt;（古い結果）&lt;/i&gt;</translation>
    </message>
    <message>
        <source>No layer errors in this session: run Study → Quantize to measure them.</source>
        <translation>このセッションにはレイヤー誤差がありません。「研究 → 量子化」を実行して測定してください。</translation>
    </message>
    <message>
        <source>No quantization plan yet.</source>
        <translation>量子化プランはまだありません。</translation>
    </message>
    <message numerus="yes">
        <source>%n module(s); SQNR and cosine of each Linear&apos;s output with its full-precision input.</source>
        <translation>
            <numerusform>%n 個のモジュール。各 Linear に完全精度の入力を与えたときの出力の SQNR とコサイン類似度。</numerusform>
        </translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: perplexity %2 (NLL %3, %4 tokens)</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;：パープレキシティ %2（NLL %3、%4 トークン）</translation>
    </message>
    <message>
        <source>, %1% vs full precision</source>
        <translation>、完全精度比 %1%</translation>
    </message>
    <message>
        <source>, KL divergence %1 nats per token</source>
        <translation>、KL ダイバージェンス トークンあたり %1 ナット</translation>
    </message>
    <message>
        <source>%1 %2</source>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source> (KL by modality: %1)</source>
        <translation>（モダリティ別KL：%1）</translation>
    </message>
    <message>
        <source>%1 SQNR %2 dB</source>
        <translation>%1 SQNR %2 dB</translation>
    </message>
    <message>
        <source>vision</source>
        <translation>視覚</translation>
    </message>
    <message>
        <source>audio</source>
        <translation>音声</translation>
    </message>
    <message>
        <source>; quantized encoders: %1</source>
        <translation>、量子化したエンコーダー: %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::LossCurveView</name>
    <message>
        <source>Out of date: an earlier plan's (Study → Quantize)</source>
        <translation>古い結果：以前のプランのもの（研究 → 量子化）</translation>
    </message>
    <message>
        <source>%1: all %2 channels compensated (16-bit), nothing for MDQFO to clip</source>
        <translation>%1：全 %2 チャネルを補償（16 ビット）、MDQFO がクリップする対象なし</translation>
    </message>
    <message>
        <source>MDQFO loss of %1</source>
        <translation>%1 の MDQFO 損失</translation>
    </message>
    <message>
        <source>%1: no MDQFO curve (quantize with MDQFO on)</source>
        <translation>%1：MDQFO 曲線なし（MDQFO を有効にして量子化してください）</translation>
    </message>
    <message>
        <source>step</source>
        <translation>ステップ</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <source>L_p</source>
        <translation>L_p</translation>
    </message>
    <message>
        <source>L_cos</source>
        <translation>L_cos</translation>
    </message>
    <message>
        <source>total</source>
        <translation>合計</translation>
    </message>
</context>
<context>
    <name>mq::ui::MainWindow</name>
    <message>
        <source>Compare</source>
        <translation>比較</translation>
    </message>
    <message>
        <source>&amp;Compare With Session...</source>
        <translation>セッションと比較(&amp;C)...</translation>
    </message>
    <message>
        <source>Compare With Session</source>
        <translation>セッションと比較</translation>
    </message>
    <message>
        <source>&amp;Keep Plan for Comparison</source>
        <translation>比較用にプランを保持(&amp;K)</translation>
    </message>
    <message>
        <source>Compare the plans you build next with this one (the Compare view)</source>
        <translation>次に作るプランをこのプランと比較します（比較ビュー）</translation>
    </message>
    <message>
        <source>Cannot compare</source>
        <translation>比較できません</translation>
    </message>
    <message>
        <source>Cannot compare: %1</source>
        <translation>比較できません：%1</translation>
    </message>
    <message>
        <source>snapshot %1</source>
        <translation>スナップショット %1</translation>
    </message>
    <message>
        <source>This plan is kept as B: quantize with other settings, then read the Compare view.</source>
        <translation>このプランを B として保持しました。別の設定で量子化し、比較ビューを確認してください。</translation>
    </message>
    <message>
        <source>Sensitivity</source>
        <translation>感度</translation>
    </message>
    <message>
        <source>&amp;Guide and Glossary</source>
        <translation>ガイドと用語集(&amp;G)</translation>
    </message>
    <message>
        <source>The plan follows these settings, but its layer errors or perplexity were measured before the last edit: Quantize (or Evaluate) to refresh them.</source>
        <translation>プランはこの設定に従っていますが、レイヤー誤差またはパープレキシティは最後の編集より前に測定されたものです。量子化（または評価）で更新してください。</translation>
    </message>
    <message>
        <source> (out of date: an earlier plan's)</source>
        <translation>（古い結果：以前のプランのもの）</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open Session...</source>
        <translation>セッションを開く(&amp;O)...</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチについて(&amp;A)</translation>
    </message>
    <message>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation>morphoquant-cli quantize --session で作成したセッション（.mqs）を開いてください。</translation>
    </message>
    <message>
        <source>Unmask channel %1 of %2</source>
        <translation>%2 のチャネル %1 のマスクを解除</translation>
    </message>
    <message>
        <source>Mask channel %1 of %2</source>
        <translation>%2 のチャネル %1 をマスク</translation>
    </message>
    <message>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation>
プラン：%1、DABC で補償したチャネル %2 個</translation>
    </message>
    <message>
        <source>
%1: perplexity %2</source>
        <translation>
%1：パープレキシティ %2</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>%1 を開きました</translation>
    </message>
    <message>
        <source>k %1 → %2</source>
        <translation>k %1 → %2</translation>
    </message>
    <message>
        <source>DABC threshold settings</source>
        <translation>DABC しきい値設定</translation>
    </message>
    <message>
        <source>Cannot compute the DABC mask: %1</source>
        <translation>DABC マスクを計算できません: %1</translation>
    </message>
    <message>
        <source>Channel %1 of %2</source>
        <translation>%2 のチャネル %1</translation>
    </message>
    <message>
        <source>Modules</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <source>Dispersion Heatmap</source>
        <translation>分散ヒートマップ</translation>
    </message>
    <message>
        <source>Outliers</source>
        <translation>外れ値</translation>
    </message>
    <message>
        <source>DABC Mask</source>
        <translation>DABC マスク</translation>
    </message>
    <message>
        <source>MDQFO Loss</source>
        <translation>MDQFO 損失</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近使ったファイル(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;load</source>
        <translation>再読み込み(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Export Plot</source>
        <translation>プロットをエクスポート(&amp;E)</translation>
    </message>
    <message>
        <source>Dispersion Heatmap...</source>
        <translation>分散ヒートマップ...</translation>
    </message>
    <message>
        <source>Outliers...</source>
        <translation>外れ値...</translation>
    </message>
    <message>
        <source>DABC Mask...</source>
        <translation>DABC マスク...</translation>
    </message>
    <message>
        <source>MDQFO Loss...</source>
        <translation>MDQFO 損失...</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>編集(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>元に戻す(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>やり直し(&amp;R)</translation>
    </message>
    <message>
        <source>Cannot open session</source>
        <translation>セッションを開けません</translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation>%1 を開けませんでした</translation>
    </message>
    <message>
        <source>Recomputing the DABC mask...</source>
        <translation>DABC マスクを再計算しています...</translation>
    </message>
    <message numerus="yes">
        <source>%n channel(s) compensated</source>
        <translation>
            <numerusform>%n 個のチャネルを補償</numerusform>
        </translation>
    </message>
    <message>
        <source>No session</source>
        <translation>セッションなし</translation>
    </message>
    <message>
        <source>Model %1 (%2)
%3 Linear modules in %4 input groups
%5 calibration tokens</source>
        <translation>モデル %1（%2）
%4 個の入力グループに %3 個の Linear モジュール
キャリブレーショントークン %5 個</translation>
    </message>
    <message>
        <source>

Current input group: %1</source>
        <translation>

現在の入力グループ：%1</translation>
    </message>
    <message>
        <source>Model: %1 (%2)</source>
        <translation>モデル：%1（%2）</translation>
    </message>
    <message>
        <source>Plan: %1, %2 masked channels</source>
        <translation>プラン：%1、マスク済みチャネル %2 個</translation>
    </message>
    <message>
        <source>No plan</source>
        <translation>プランなし</translation>
    </message>
    <message>
        <source>Open Session</source>
        <translation>セッションを開く</translation>
    </message>
    <message>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation>MorphoQuant セッション (*.mqs);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>Clear List</source>
        <translation>リストを消去</translation>
    </message>
    <message>
        <source>About MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチについて</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation>MorphoQuant ワークベンチ %1
モダリティを考慮した 4 ビット学習後量子化（DABC + MDQFO）。</translation>
    </message>
    <message>
        <source>Token ids (JSONL with input_ids)</source>
        <translation>トークン ID（input_ids を含む JSONL）</translation>
    </message>
    <message>
        <source>Qwen2.5-Omni manifest (JSONL with text, images, audio, video)</source>
        <translation>Qwen2.5-Omni マニフェスト（テキスト・画像・音声・動画を含む JSONL）</translation>
    </message>
    <message>
        <source>JSON lines (*.jsonl *.json);;All files (*)</source>
        <translation>JSON Lines ファイル (*.jsonl *.json);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>ファイル：</translation>
    </message>
    <message>
        <source>Kind:</source>
        <translation>種類：</translation>
    </message>
    <message>
        <source>Batch size:</source>
        <translation>バッチサイズ：</translation>
    </message>
    <message>
        <source>p %1 → %2</source>
        <translation>p %1 → %2</translation>
    </message>
    <message>
        <source>λ cos %1 → %2</source>
        <translation>λ cos %1 → %2</translation>
    </message>
    <message>
        <source>Quantization settings</source>
        <translation>量子化設定</translation>
    </message>
    <message>
        <source>MDQFO preview failed: %1</source>
        <translation>MDQFO プレビューに失敗しました：%1</translation>
    </message>
    <message>
        <source>Running: MDQFO of %1</source>
        <translation>実行中：%1 の MDQFO</translation>
    </message>
    <message>
        <source>%1 cancelled; the session is unchanged</source>
        <translation>%1 をキャンセルしました。セッションは変更されていません</translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation>%1 に失敗しました</translation>
    </message>
    <message>
        <source>Open a session (.mqs) or a model folder to start.</source>
        <translation>開始するには、セッション（.mqs）またはモデルフォルダーを開いてください。</translation>
    </message>
    <message>
        <source>Tuning</source>
        <translation>チューニング</translation>
    </message>
    <message>
        <source>Layer Errors</source>
        <translation>レイヤー誤差</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>ジョブ</translation>
    </message>
    <message>
        <source>Open &amp;Model Folder...</source>
        <translation>モデルフォルダーを開く(&amp;M)...</translation>
    </message>
    <message>
        <source>Open E&amp;xample Session</source>
        <translation>サンプルセッションを開く(&amp;X)</translation>
    </message>
    <message>
        <source>&amp;Save Session</source>
        <translation>セッションを保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save Session &amp;As...</source>
        <translation>名前を付けてセッションを保存(&amp;A)...</translation>
    </message>
    <message>
        <source>&amp;Study</source>
        <translation>研究(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Calibrate...</source>
        <translation>キャリブレーション(&amp;C)...</translation>
    </message>
    <message>
        <source>&amp;Quantize</source>
        <translation>量子化(&amp;Q)</translation>
    </message>
    <message>
        <source>Build the plan with the tuning panel&apos;s settings</source>
        <translation>チューニングパネルの設定でプランを作成</translation>
    </message>
    <message>
        <source>&amp;Evaluate...</source>
        <translation>評価(&amp;E)...</translation>
    </message>
    <message>
        <source>Cancel &amp;Job</source>
        <translation>ジョブをキャンセル(&amp;J)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>言語(&amp;L)</translation>
    </message>
    <message>
        <source>System Default</source>
        <translation>システムの既定</translation>
    </message>
    <message>
        <source>The language changes at the next start of the workbench.</source>
        <translation>言語はワークベンチの次回起動時に切り替わります。</translation>
    </message>
    <message>
        <source>Wait for the running job or cancel it first.</source>
        <translation>実行中のジョブの完了を待つか、先にキャンセルしてください。</translation>
    </message>
    <message>
        <source>Cannot save session</source>
        <translation>セッションを保存できません</translation>
    </message>
    <message>
        <source>Could not save %1</source>
        <translation>%1 を保存できませんでした</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 を保存しました</translation>
    </message>
    <message>
        <source>Save Session</source>
        <translation>セッションを保存</translation>
    </message>
    <message>
        <source>MorphoQuant sessions (*.mqs)</source>
        <translation>MorphoQuant セッション (*.mqs)</translation>
    </message>
    <message>
        <source>untitled</source>
        <translation>無題</translation>
    </message>
    <message>
        <source>%1%2 — MorphoQuant Workbench</source>
        <translation>%1%2 — MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <source>Open a session or a model folder.</source>
        <translation>セッションまたはモデルフォルダーを開いてください。</translation>
    </message>
    <message>
        <source>No calibration statistics: Study → Calibrate first.</source>
        <translation>キャリブレーション統計がありません。先に「研究 → キャリブレーション」を実行してください。</translation>
    </message>
    <message>
        <source>No plan yet: Quantize builds one with these settings.</source>
        <translation>プランはまだありません。「量子化」でこの設定のプランを作成します。</translation>
    </message>
    <message>
        <source>Bits, formats, method or rho differ from the plan&apos;s: Quantize to apply them.</source>
        <translation>ビット数、形式、手法または rho がプランと異なります。量子化して適用してください。</translation>
    </message>
    <message numerus="yes">
        <source>MDQFO previewed on %n input group(s) only: Quantize to apply it to every layer.</source>
        <translation>
            <numerusform>MDQFO は %n 個の入力グループでのみプレビューされています。量子化してすべてのレイヤーに適用してください。</numerusform>
        </translation>
    </message>
    <message>
        <source>The plan matches these settings.</source>
        <translation>プランはこの設定と一致しています。</translation>
    </message>
    <message>
        <source>MDQFO preview waits for the running job: Quantize afterwards to apply.</source>
        <translation>MDQFO プレビューは実行中のジョブを待っています。完了後に量子化して適用してください。</translation>
    </message>
    <message>
        <source>The MDQFO preview needs the calibration inputs of a quantization run in this window: Quantize once.</source>
        <translation>MDQFO プレビューには、このウィンドウで実行した量子化のキャリブレーション入力が必要です。一度量子化してください。</translation>
    </message>
    <message>
        <source>Previewing MDQFO on layer %1...</source>
        <translation>レイヤー %1 で MDQFO をプレビューしています...</translation>
    </message>
    <message numerus="yes">
        <source>MDQFO preview of %n input group(s) in %1 ms</source>
        <translation>
            <numerusform>%n 個の入力グループで MDQFO をプレビューしました（%1 ms）</numerusform>
        </translation>
    </message>
    <message>
        <source>Open a session or a model folder first.</source>
        <translation>先にセッションまたはモデルフォルダーを開いてください。</translation>
    </message>
    <message>
        <source>%1 is running: wait for it or cancel it first.</source>
        <translation>%1 を実行中です。完了を待つか、先にキャンセルしてください。</translation>
    </message>
    <message>
        <source>Open model %1</source>
        <translation>モデル %1 を開く</translation>
    </message>
    <message>
        <source>%1 Linear modules in %2 input groups%3</source>
        <translation>%2 個の入力グループに %1 個の Linear モジュール%3</translation>
    </message>
    <message>
        <source> (same model: statistics kept)</source>
        <translation>（同じモデル：統計を保持）</translation>
    </message>
    <message>
        <source>Model loaded: Study → Calibrate collects its statistics.</source>
        <translation>モデルを読み込みました。「研究 → キャリブレーション」で統計を収集します。</translation>
    </message>
    <message>
        <source>Open a model folder first.</source>
        <translation>先にモデルフォルダーを開いてください。</translation>
    </message>
    <message>
        <source>Calibrate on %1</source>
        <translation>%1 でキャリブレーション</translation>
    </message>
    <message>
        <source>%1 sequences, %2 tokens</source>
        <translation>%1 シーケンス、%2 トークン</translation>
    </message>
    <message>
        <source>Calibrate first: the plan is built from the calibration statistics.</source>
        <translation>先にキャリブレーションしてください。プランはキャリブレーション統計から作成されます。</translation>
    </message>
    <message>
        <source>Quantize %1</source>
        <translation>量子化 %1</translation>
    </message>
    <message>
        <source>worst module SQNR %1 dB</source>
        <translation>最悪モジュールの SQNR %1 dB</translation>
    </message>
    <message>
        <source>plan built</source>
        <translation>プランを作成しました</translation>
    </message>
    <message>
        <source>Quantize first: evaluation compares the quantized model with full precision.</source>
        <translation>先に量子化してください。評価では量子化モデルを完全精度モデルと比較します。</translation>
    </message>
    <message>
        <source>Evaluate on %1</source>
        <translation>%1 で評価</translation>
    </message>
    <message>
        <source>perplexity %1</source>
        <translation>パープレキシティ %1</translation>
    </message>
    <message>
        <source>Quantize first: there is no plan to export.</source>
        <translation>先に量子化してください。エクスポートするプランがありません。</translation>
    </message>
    <message>
        <source>Export to %1</source>
        <translation>%1 にエクスポート</translation>
    </message>
    <message>
        <source>%1 tensors, %2 MB</source>
        <translation>テンソル %1 個、%2 MB</translation>
    </message>
    <message>
        <source>Open Model Folder</source>
        <translation>モデルフォルダーを開く</translation>
    </message>
    <message>
        <source>Calibrate</source>
        <translation>キャリブレーション</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>評価</translation>
    </message>
    <message>
        <source>Also evaluate the full-precision model</source>
        <translation>完全精度モデルも評価する</translation>
    </message>
    <message>
        <source>Example session</source>
        <translation>サンプルセッション</translation>
    </message>
    <message>
        <source>The example session is built with the workbench when the stories260K model is found (../shared/models/stories260K); this build has none.</source>
        <translation>サンプルセッションは、stories260K モデル（../shared/models/stories260K）が見つかった場合にワークベンチのビルド時に作成されます。このビルドには含まれていません。</translation>
    </message>
    <message>
        <source>&amp;Reset Layout</source>
        <translation>レイアウトをリセット(&amp;R)</translation>
    </message>
    <message>
        <source>The views are back in their first arrangement.</source>
        <translation>ビューを最初の配置に戻しました。</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存の変更</translation>
    </message>
    <message>
        <source>The session has changes that are not saved. Save them?</source>
        <translation>セッションに未保存の変更があります。保存しますか？</translation>
    </message>
    <message>
        <source>Export Quanti&amp;zed Model...</source>
        <translation>量子化モデルをエクスポート(&amp;Z)...</translation>
    </message>
    <message>
        <source>MPI &amp;Launcher...</source>
        <translation>MPI ランチャー(&amp;L)...</translation>
    </message>
    <message>
        <source>Run Calibrate and Quantize as MPI jobs through a launcher command (mpirun, srun)</source>
        <translation>キャリブレーションと量子化をランチャーコマンド（mpirun、srun）経由の MPI ジョブとして実行します</translation>
    </message>
    <message>
        <source>Use the &amp;GPU Kernels (CUDA)</source>
        <translation>GPU カーネルを使う (CUDA)(&amp;G)</translation>
    </message>
    <message>
        <source>Run the statistics pass and MDQFO&apos;s grid scoring on the GPU (README &quot;GPU kernels&quot;)</source>
        <translation>統計の収集と MDQFO のグリッド評価を GPU で実行します（README「GPU kernels」）</translation>
    </message>
    <message>
        <source>Statistics and MDQFO&apos;s grid scoring run on the GPU.</source>
        <translation>統計と MDQFO のグリッド評価は GPU で実行されます。</translation>
    </message>
    <message>
        <source>Everything runs on the CPU.</source>
        <translation>すべて CPU で実行されます。</translation>
    </message>
    <message>
        <source>GPU Kernels</source>
        <translation>GPU カーネル</translation>
    </message>
    <message>
        <source>Calibrate on %1 (MPI)</source>
        <translation>%1 でキャリブレーション（MPI）</translation>
    </message>
    <message>
        <source>Quantize %1 (MPI)</source>
        <translation>%1 を量子化（MPI）</translation>
    </message>
    <message>
        <source>MPI Launcher</source>
        <translation>MPI ランチャー</translation>
    </message>
    <message>
        <source>Run Calibrate and Quantize through this command, e.g. &lt;tt&gt;mpirun -n 4 --hostfile hosts&lt;/tt&gt; or &lt;tt&gt;srun -N 2 --ntasks-per-node 2 --mpi=pmix&lt;/tt&gt;; morphoquant-cli and its arguments follow it. Empty: jobs run in this process.</source>
        <translation>キャリブレーションと量子化をこのコマンド経由で実行します。例: &lt;tt&gt;mpirun -n 4 --hostfile hosts&lt;/tt&gt; や &lt;tt&gt;srun -N 2 --ntasks-per-node 2 --mpi=pmix&lt;/tt&gt;。その後に morphoquant-cli とその引数が続きます。空欄: ジョブはこのプロセス内で実行されます。</translation>
    </message>
    <message>
        <source>Jobs run in this process.</source>
        <translation>ジョブはこのプロセス内で実行されます。</translation>
    </message>
    <message>
        <source>Calibrate and Quantize run through: %1</source>
        <translation>キャリブレーションと量子化の実行コマンド: %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
    <message>
        <source>DABC mask of %1: %2 of %3 channels compensated</source>
        <translation>%1 の DABC マスク：%3 チャネル中 %2 を補償</translation>
    </message>
    <message>
        <source>DABC mask: no input group selected</source>
        <translation>DABC マスク：入力グループが選択されていません</translation>
    </message>
    <message>
        <source>DABC mask of %1: no plan yet (quantize first)</source>
        <translation>%1 の DABC マスク：計画がまだありません（先に量子化してください）</translation>
    </message>
    <message>
        <source>input channel</source>
        <translation>入力チャネル</translation>
    </message>
    <message>
        <source>D_c</source>
        <translation>D_c</translation>
    </message>
    <message>
        <source>kept (4-bit)</source>
        <translation>維持（4 ビット）</translation>
    </message>
    <message>
        <source>masked (DABC)</source>
        <translation>マスク（DABC）</translation>
    </message>
    <message>
        <source>edited by hand</source>
        <translation>手動で編集</translation>
    </message>
    <message>
        <source>Click a channel to mask or unmask it by hand (Edit &gt; Undo reverts)</source>
        <translation>チャネルをクリックして手動でマスク／解除します（編集 &gt; 元に戻す で取り消し）</translation>
    </message>
    <message>
        <source>τ local = %1</source>
        <translation>τ local = %1</translation>
    </message>
    <message>
        <source>τ global = %1</source>
        <translation>τ global = %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::Modality</name>
    <message>
        <source>pooled</source>
        <translation>統合</translation>
    </message>
    <message>
        <source>text</source>
        <translation>テキスト</translation>
    </message>
    <message>
        <source>image</source>
        <translation>画像</translation>
    </message>
    <message>
        <source>video</source>
        <translation>動画</translation>
    </message>
    <message>
        <source>audio</source>
        <translation>音声</translation>
    </message>
    <message>
        <source>full precision</source>
        <translation>全精度</translation>
    </message>
</context>
<context>
    <name>mq::ui::OutlierView</name>
    <message>
        <source>per-channel max|x|</source>
        <translation>チャネルごとの max|x|</translation>
    </message>
    <message>
        <source>channels</source>
        <translation>チャネル数</translation>
    </message>
    <message>
        <source>%1 (%2 tokens)</source>
        <translation>%1（%2 トークン）</translation>
    </message>
    <message>
        <source>α₀[%1]</source>
        <translation>α₀[%1]</translation>
    </message>
    <message>
        <source>α[%1]</source>
        <translation>α[%1]</translation>
    </message>
    <message>
        <source>min %1</source>
        <translation>最小 %1</translation>
    </message>
    <message>
        <source>median %1</source>
        <translation>中央値 %1</translation>
    </message>
    <message>
        <source>max %1</source>
        <translation>最大 %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::PlotExport</name>
    <message>
        <source>Export Plot</source>
        <translation>プロットをエクスポート</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>エクスポートに失敗しました</translation>
    </message>
    <message>
        <source>Export Plot...</source>
        <translation>プロットをエクスポート...</translation>
    </message>
    <message>
        <source>Reset View</source>
        <translation>表示をリセット</translation>
    </message>
    <message>
        <source>Plot exported by MorphoQuant Workbench %1</source>
        <translation>MorphoQuant ワークベンチ %1 でエクスポートしたプロット</translation>
    </message>
    <message>
        <source>PNG image (*.png)</source>
        <translation>PNG 画像 (*.png)</translation>
    </message>
    <message>
        <source>SVG image (*.svg)</source>
        <translation>SVG 画像 (*.svg)</translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation>PDF ドキュメント (*.pdf)</translation>
    </message>
    <message>
        <source>Could not write %1 (PNG, SVG and PDF are supported).</source>
        <translation>%1 を書き込めませんでした（PNG、SVG、PDF に対応しています）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::SessionModel</name>
    <message>
        <source>Out of date: measured under an earlier plan (the masks, bounds or settings changed since). Study → Quantize measures it again.</source>
        <translation>古い結果です：以前のプランで測定されました（その後マスク、境界または設定が変更されています）。「研究 → 量子化」で再測定します。</translation>
    </message>
    <message>
        <source>%1
input group %2</source>
        <translation>%1
入力グループ %2</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>その他</translation>
    </message>
    <message>
        <source>Layer %1</source>
        <translation>レイヤー %1</translation>
    </message>
    <message numerus="yes">
        <source>%n module(s)</source>
        <translation>
            <numerusform>%n 個のモジュール</numerusform>
        </translation>
    </message>
    <message>
        <source>Module</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>In → Out</source>
        <translation>入力 → 出力</translation>
    </message>
    <message>
        <source>Input group</source>
        <translation>入力グループ</translation>
    </message>
    <message>
        <source>Max D_c</source>
        <translation>最大 D_c</translation>
    </message>
    <message>
        <source>Masked</source>
        <translation>マスク数</translation>
    </message>
    <message>
        <source>Final loss</source>
        <translation>最終損失</translation>
    </message>
    <message>
        <source>The highest max D_c (%1 tokens) of this layer&apos;s input groups</source>
        <translation>このレイヤーの入力グループのうち最も高い最大 D_c（%1 トークン）</translation>
    </message>
    <message>
        <source>The lowest SQNR of this layer&apos;s modules</source>
        <translation>このレイヤーのモジュールのうち最も低い SQNR</translation>
    </message>
    <message>
        <source>paper form |max - min| / log(sum|x| + 1e-5)</source>
        <translation>論文の式 |max - min| / log(sum|x| + 1e-5)</translation>
    </message>
    <message>
        <source>code form |max - min| / log(1 + mean|x| + 1e-5)</source>
        <translation>コードの式 |max - min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, all tokens pooled (%1)</source>
        <translation>入力グループの各チャネルにおける分散スコア D_c の最大値、全トークンを統合（%1）</translation>
    </message>
    <message>
        <source>Channels compensated by DABC</source>
        <translation>DABC で補償したチャネル</translation>
    </message>
    <message>
        <source>Last MDQFO loss (L_p + lambda_cos L_cos) of the input group</source>
        <translation>入力グループの最終 MDQFO 損失（L_p + lambda_cos L_cos）</translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over all calibration tokens, 10 log10(sum ||y||² / sum ||y - y_q||²); lower is worse. –: not measured for the current plan</source>
        <translation>全キャリブレーショントークンにおける量子化モジュールの出力 SQNR（dB）、10 log10(sum ||y||² / sum ||y - y_q||²)。低いほど悪い。–：現在のプランでは未測定</translation>
    </message>
    <message>
        <source>Highest dispersion score D_c over the input group&apos;s channels, %1 tokens only (%2). –: no %1 token reached this input</source>
        <translation>入力グループの各チャネルにおける分散スコア D_c の最大値、%1 トークンのみ（%2）。–：この入力に到達した %1 トークンなし</translation>
    </message>
    <message>
        <source>Output SQNR of the quantized module in dB over %1 tokens only; lower is worse. –: not measured, or no %1 token reached this module</source>
        <translation>%1 トークンのみにおける量子化モジュールの出力 SQNR（dB）。低いほど悪い。–：未測定、またはこのモジュールに到達した %1 トークンなし</translation>
    </message>
    <message>
        <source>D_c text</source>
        <translation>D_c テキスト</translation>
    </message>
    <message>
        <source>D_c image</source>
        <translation>D_c 画像</translation>
    </message>
    <message>
        <source>D_c video</source>
        <translation>D_c 動画</translation>
    </message>
    <message>
        <source>D_c audio</source>
        <translation>D_c 音声</translation>
    </message>
    <message>
        <source>SQNR dB</source>
        <translation>SQNR dB</translation>
    </message>
    <message>
        <source>SQNR text</source>
        <translation>SQNR テキスト</translation>
    </message>
    <message>
        <source>SQNR image</source>
        <translation>SQNR 画像</translation>
    </message>
    <message>
        <source>SQNR video</source>
        <translation>SQNR 動画</translation>
    </message>
    <message>
        <source>SQNR audio</source>
        <translation>SQNR 音声</translation>
    </message>
    <message>
        <source>No %1 token reached input group %2</source>
        <translation>入力グループ %2 に到達した %1 トークンはありません</translation>
    </message>
    <message>
        <source>Highest D_c of input group %1 over %2 %3 tokens</source>
        <translation>%2 個の %3 トークンにおける入力グループ %1 の最大 D_c</translation>
    </message>
    <message>
        <source>No output error measured for %1</source>
        <translation>%1 の出力誤差は測定されていません</translation>
    </message>
    <message>
        <source>No %1 token in the output error of %2</source>
        <translation>%2 の出力誤差に %1 トークンはありません</translation>
    </message>
    <message>
        <source>SQNR %1 dB, mean cosine %2 over %3 %4 tokens</source>
        <translation>SQNR %1 dB、%3 トークン（%4）での平均コサイン %2</translation>
    </message>
    <message>
        <source>SQNR %1 dB, mean cosine %2 over all %3 tokens</source>
        <translation>SQNR %1 dB、平均コサイン %2（全 %3 トークン）</translation>
    </message>
</context>
<context>
    <name>mq::ui::ThresholdPanel</name>
    <message>
        <source>Per token (dynamic)</source>
        <translation>トークンごと（動的）</translation>
    </message>
    <message>
        <source>Per tensor (static, calibration range)</source>
        <translation>テンソルごと（静的、校正時の範囲）</translation>
    </message>
    <message>
        <source>Per tensor (dynamic, each forward)</source>
        <translation>テンソルごと（動的、各フォワード）</translation>
    </message>
    <message>
        <source>How many scales RTN's integer activations get: one per token, or one per input group (from the calibration's range, or from each forward's)</source>
        <translation>RTN の整数活性化のスケール数：トークンごとに 1 つ、または入力グループごとに 1 つ（校正時の範囲、または各フォワードの範囲から）</translation>
    </message>
    <message>
        <source>whole token</source>
        <translation>トークン全体</translation>
    </message>
    <message>
        <source>Per-token integer activations: a scale per group of this many channels of each token (0: one per token); each scale costs 16 bits</source>
        <translation>トークンごとの整数活性化：各トークンのこのチャネル数のグループごとにスケール 1 つ（0：トークンごとに 1 つ）。スケール 1 つは 16 ビット</translation>
    </message>
    <message>
        <source>Activation scales:</source>
        <translation>活性化スケール：</translation>
    </message>
    <message>
        <source>Activation group:</source>
        <translation>活性化グループ：</translation>
    </message>
    <message>
        <source>Simulated (weights and activations fake-quantized apart)</source>
        <translation>シミュレーション（重みと活性化を別々に疑似量子化）</translation>
    </message>
    <message>
        <source>Deployable (activation scales folded into the weights)</source>
        <translation>デプロイ可能（活性化スケールを重みに畳み込み）</translation>
    </message>
    <message>
        <source>Deployable: each static per-channel activation scale is folded into the weight before it is rounded, so an integer GEMM can run the plan (MorphoQuant with quantized activations and weights, without GPTQ)</source>
        <translation>デプロイ可能：各静的チャネル別活性化スケールを丸める前に重みに畳み込み、整数 GEMM で計画を実行できるようにします（量子化された活性化と重みを持つ MorphoQuant、GPTQ なし）</translation>
    </message>
    <message>
        <source>Mode:</source>
        <translation>モード:</translation>
    </message>
    <message>
        <source>τ = μ + k·σ of the dispersion scores D&lt;sub&gt;c&lt;/sub&gt;</source>
        <translation>分散スコア D&lt;sub&gt;c&lt;/sub&gt; の τ = μ + k·σ</translation>
    </message>
    <message>
        <source>Local (this group&apos;s channels)</source>
        <translation>ローカル（このグループのチャネル）</translation>
    </message>
    <message>
        <source>Global (all groups&apos; channels)</source>
        <translation>グローバル（全グループのチャネル）</translation>
    </message>
    <message>
        <source>Code: |max-min| / log(1 + mean|x|)</source>
        <translation>コード: |max-min| / log(1 + mean|x|)</translation>
    </message>
    <message>
        <source>Paper: |max-min| / log(||x||_1)</source>
        <translation>論文: |max-min| / log(||x||_1)</translation>
    </message>
    <message>
        <source>Pooled over modalities</source>
        <translation>全モダリティを統合</translation>
    </message>
    <message>
        <source>Outlier in any modality</source>
        <translation>いずれかのモダリティで外れ値</translation>
    </message>
    <message>
        <source>none (pure Eq. 6)</source>
        <translation>なし（式 6 のみ）</translation>
    </message>
    <message>
        <source>Module kinds whose input is masked entirely, comma separated (e.g. down_proj)</source>
        <translation>入力全体をマスクするモジュール種別（カンマ区切り、例: down_proj）</translation>
    </message>
    <message>
        <source>k:</source>
        <translation>k:</translation>
    </message>
    <message>
        <source>Thresholds:</source>
        <translation>しきい値:</translation>
    </message>
    <message>
        <source>Score:</source>
        <translation>スコア:</translation>
    </message>
    <message>
        <source>Statistics:</source>
        <translation>統計:</translation>
    </message>
    <message>
        <source>Force kinds:</source>
        <translation>強制する種別:</translation>
    </message>
    <message>
        <source>Compensate outlier channels (DABC)</source>
        <translation>外れ値チャネルを補償（DABC）</translation>
    </message>
    <message>
        <source>Compensate only elements with |x| &amp;gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; (0: every element of a masked channel); takes effect at the next quantization</source>
        <translation>|x| &amp;gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; の要素のみを補償します（0: マスクしたチャネルのすべての要素）。次回の量子化から有効になります</translation>
    </message>
    <message>
        <source>Optimize clipping bounds (MDQFO)</source>
        <translation>クリッピング範囲を最適化（MDQFO）</translation>
    </message>
    <message>
        <source>Grid search over ratios</source>
        <translation>比率のグリッドサーチ</translation>
    </message>
    <message>
        <source>Adam on α</source>
        <translation>α を Adam で最適化</translation>
    </message>
    <message>
        <source>Exponent of the L_p morphology term (paper 0.5; authors&apos; configs 2, 3)</source>
        <translation>L_p 形態項の指数（論文では 0.5、著者の設定では 2、3）</translation>
    </message>
    <message>
        <source>Weight of the cosine term L_cos</source>
        <translation>コサイン項 L_cos の重み</translation>
    </message>
    <message>
        <source>MorphoQuant (DABC + MDQFO, static per-channel activations)</source>
        <translation>MorphoQuant（DABC + MDQFO、チャネルごとの静的活性化）</translation>
    </message>
    <message>
        <source>RTN (per-token dynamic activations)</source>
        <translation>RTN（トークンごとの動的活性化）</translation>
    </message>
    <message>
        <source>Integer, symmetric</source>
        <translation>整数、対称</translation>
    </message>
    <message>
        <source>NF4</source>
        <translation>NF4</translation>
    </message>
    <message>
        <source>Unquantized (W16)</source>
        <translation>量子化なし（W16）</translation>
    </message>
    <message>
        <source>per output channel</source>
        <translation>出力チャネルごと</translation>
    </message>
    <message>
        <source>Weight scale group size along the input dimension (0: one scale per output channel)</source>
        <translation>入力次元方向の重みスケールのグループサイズ（0: 出力チャネルごとに 1 つのスケール）</translation>
    </message>
    <message>
        <source>A16 (unquantized)</source>
        <translation>A16（量子化なし）</translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation>量子化</translation>
    </message>
    <message>
        <source>Build the plan with these settings for every layer (Study → Quantize)</source>
        <translation>この設定で全レイヤーのプランを作成（研究 → 量子化）</translation>
    </message>
    <message>
        <source>DABC</source>
        <translation>DABC</translation>
    </message>
    <message>
        <source>ρ:</source>
        <translation>ρ:</translation>
    </message>
    <message>
        <source>MDQFO</source>
        <translation>MDQFO</translation>
    </message>
    <message>
        <source>Solver:</source>
        <translation>ソルバー:</translation>
    </message>
    <message>
        <source>p:</source>
        <translation>p:</translation>
    </message>
    <message>
        <source>λ&lt;sub&gt;cos&lt;/sub&gt;:</source>
        <translation>λ&lt;sub&gt;cos&lt;/sub&gt;:</translation>
    </message>
    <message>
        <source>Bits and formats</source>
        <translation>ビット数と形式</translation>
    </message>
    <message>
        <source>Method:</source>
        <translation>手法:</translation>
    </message>
    <message>
        <source>Weights:</source>
        <translation>重み:</translation>
    </message>
    <message>
        <source>Weight bits:</source>
        <translation>重みのビット数:</translation>
    </message>
    <message>
        <source>Weight group:</source>
        <translation>重みグループ:</translation>
    </message>
    <message>
        <source>Activations:</source>
        <translation>活性化:</translation>
    </message>
    <message>
        <source>No plan yet.</source>
        <translation>プランはまだありません。</translation>
    </message>
    <message>
        <source>NVFP4 (16-blocks, E4M3 scales)</source>
        <translation>NVFP4（16要素ブロック、E4M3スケール）</translation>
    </message>
    <message>
        <source>MXFP4 (32-blocks, power-of-two scales)</source>
        <translation>MXFP4（32要素ブロック、2のべき乗スケール）</translation>
    </message>
    <message>
        <source>HiFloat4 (64-units, micro-exponents)</source>
        <translation>HiFloat4（64要素単位、マイクロ指数）</translation>
    </message>
    <message>
        <source>Integer</source>
        <translation>整数</translation>
    </message>
    <message>
        <source>NVFP4</source>
        <translation>NVFP4</translation>
    </message>
    <message>
        <source>MXFP4</source>
        <translation>MXFP4</translation>
    </message>
    <message>
        <source>HiFloat8 (A8)</source>
        <translation>HiFloat8（A8）</translation>
    </message>
    <message>
        <source>HiFloat4</source>
        <translation>HiFloat4</translation>
    </message>
    <message>
        <source>Per-token activation format (RTN only); the block formats are 4-bit, HiFloat8 8-bit</source>
        <translation>トークンごとの活性化形式（RTNのみ）。ブロック形式は4ビット、HiFloat8は8ビット</translation>
    </message>
    <message>
        <source>Weights by GPTQ</source>
        <translation>GPTQで重みを量子化</translation>
    </message>
    <message>
        <source>Round each Linear&apos;s weights column by column, spreading the error through the inverse Hessian of its calibration inputs</source>
        <translation>各Linearの重みを列ごとに丸め、その誤差をキャリブレーション入力のヘッセ行列の逆行列を通じて残りの列に分配します</translation>
    </message>
    <message>
        <source>Quantize the encoders too</source>
        <translation>エンコーダーも量子化する</translation>
    </message>
    <message>
        <source>Qwen2.5-Omni: the vision and audio encoders&apos; Linears get these activations (DABC and MDQFO on their own statistics) and weights rounded to nearest; simulated only, the exports write the decoder. Needs a manifest calibration with images, audio or video.</source>
        <translation>Qwen2.5-Omni: 視覚・音声エンコーダーのLinearにもこの活性化量子化（それぞれの統計に基づくDABCとMDQFO）と最近接丸めの重みを適用します。シミュレーションのみで、エクスポートはデコーダーだけを書き出します。画像・音声・動画を含むマニフェストでのキャリブレーションが必要です。</translation>
    </message>
    <message>
        <source>Aim at the full-precision outputs</source>
        <translation>全精度の出力を目標にする</translation>
    </message>
    <message>
        <source>GPTQ towards the full-precision model&apos;s outputs from the quantized model&apos;s inputs (GPTAQ-style)</source>
        <translation>量子化モデルの入力から全精度モデルの出力を目標にするGPTQ（GPTAQ方式）</translation>
    </message>
    <message>
        <source>Activation format:</source>
        <translation>活性化形式:</translation>
    </message>
    <message>
        <source>Recipe:</source>
        <translation>レシピ:</translation>
    </message>
    <message>
        <source>full precision</source>
        <translation>全精度</translation>
    </message>
</context>
<context>
    <name>mq::ui::Cost</name>
    <message>
        <source>Cost: activations %1 bits per element%2 (%3 per multiply-add); DABC %4 of %5 channels, +%6% multiply-adds; weights %7 bits; %8</source>
        <translation>コスト：活性化 要素あたり %1 ビット%2（積和あたり %3 ビット）、DABC %5 チャネル中 %4、積和 +%6%、重み %7 ビット、%8</translation>
    </message>
    <message>
        <source> (the decoder&apos;s; the encoders are quantized too)</source>
        <translation>（デコーダーの数値。エンコーダーも量子化済み）</translation>
    </message>
    <message>
        <source> at most</source>
        <translation>（上限）</translation>
    </message>
    <message>
        <source>deployable</source>
        <translation>デプロイ可能</translation>
    </message>
    <message>
        <source>simulated</source>
        <translation>シミュレーション</translation>
    </message>
</context>
<context>
    <name>mq::ui::WelcomePage</name>
    <message>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <source>Modality-aware 4-bit post-training quantization: look at each input's outliers, tune DABC and MDQFO, compare what each figure costs, export.</source>
        <translation>モダリティを考慮した 4 ビット学習後量子化：各入力の外れ値を確認し、DABC と MDQFO を調整し、各数値のコストを比較してエクスポートします。</translation>
    </message>
    <message>
        <source>Open the Example Session</source>
        <translation>サンプルセッションを開く</translation>
    </message>
    <message>
        <source>stories260K, calibrated and quantized with MorphoQuant W4A4 when the workbench was built</source>
        <translation>stories260K（ワークベンチのビルド時に MorphoQuant W4A4 で校正・量子化済み）</translation>
    </message>
    <message>
        <source>Open a Session...</source>
        <translation>セッションを開く...</translation>
    </message>
    <message>
        <source>Open a Model Folder...</source>
        <translation>モデルフォルダーを開く...</translation>
    </message>
    <message>
        <source>Guide and Glossary</source>
        <translation>ガイドと用語集</translation>
    </message>
    <message>
        <source>1. Calibrate</source>
        <translation>1. 校正</translation>
    </message>
    <message>
        <source>2. Quantize</source>
        <translation>2. 量子化</translation>
    </message>
    <message>
        <source>3. Evaluate</source>
        <translation>3. 評価</translation>
    </message>
    <message>
        <source>4. Export</source>
        <translation>4. エクスポート</translation>
    </message>
    <message>
        <source>Study → Calibrate: run calibration data (token ids or an Omni manifest) through the model and gather each Linear input's per-channel statistics, per modality.</source>
        <translation>研究 → 校正：校正データ（トークン ID または Omni マニフェスト）をモデルに通し、各 Linear 入力のチャネルごとの統計をモダリティ別に集めます。</translation>
    </message>
    <message>
        <source>Tune the DABC threshold and MDQFO on the left, then Study → Quantize: the plan, each layer's output error and what the plan costs in effective bits.</source>
        <translation>左側で DABC のしきい値と MDQFO を調整し、研究 → 量子化：プラン、各レイヤーの出力誤差、実効ビット数で表したプランのコスト。</translation>
    </message>
    <message>
        <source>Study → Evaluate: perplexity and KL divergence against full precision on an evaluation file.</source>
        <translation>研究 → 評価：評価ファイル上での全精度に対するパープレキシティと KL ダイバージェンス。</translation>
    </message>
    <message>
        <source>File → Export Quantized Model: a Hugging Face folder this tool or a serving stack loads (compressed-tensors, NVFP4, or this tool's formats).</source>
        <translation>ファイル → 量子化モデルをエクスポート：このツールまたはサービングスタックが読み込める Hugging Face フォルダー（compressed-tensors、NVFP4、またはこのツールの形式）。</translation>
    </message>
    <message>
        <source>Recent sessions</source>
        <translation>最近のセッション</translation>
    </message>
    <message>
        <source>A study in four steps</source>
        <translation>4 ステップの研究</translation>
    </message>
</context>
<context>
    <name>mq::ui::GuideDialog</name>
    <message>
        <source>A study, step by step</source>
        <translation>研究の手順</translation>
    </message>
    <message>
        <source>&lt;b&gt;Calibrate&lt;/b&gt; (Study → Calibrate): statistics of every Linear input, per channel and modality, from calibration data.</source>
        <translation>&lt;b&gt;校正&lt;/b&gt;（研究 → 校正）：校正データから、各 Linear 入力のチャネル別・モダリティ別の統計。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Look&lt;/b&gt;: the heatmap shows D&lt;sub&gt;c&lt;/sub&gt; of every channel; the outlier view and the DABC mask show the selected input group.</source>
        <translation>&lt;b&gt;確認&lt;/b&gt;：ヒートマップは各チャネルの D&lt;sub&gt;c&lt;/sub&gt; を示し、外れ値ビューと DABC マスクは選択中の入力グループを示します。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Tune&lt;/b&gt;: k moves the thresholds τ&lt;sub&gt;local&lt;/sub&gt; and τ&lt;sub&gt;global&lt;/sub&gt; at once; MDQFO's p and λ&lt;sub&gt;cos&lt;/sub&gt; preview on the current layer.</source>
        <translation>&lt;b&gt;調整&lt;/b&gt;：k はしきい値 τ&lt;sub&gt;local&lt;/sub&gt; と τ&lt;sub&gt;global&lt;/sub&gt; を同時に動かし、MDQFO の p と λ&lt;sub&gt;cos&lt;/sub&gt; は現在のレイヤーでプレビューされます。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Quantize&lt;/b&gt; (Study → Quantize): the plan for every layer, its layer errors and its cost in effective bits.</source>
        <translation>&lt;b&gt;量子化&lt;/b&gt;（研究 → 量子化）：全レイヤーのプラン、レイヤー誤差、実効ビット数でのコスト。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Evaluate&lt;/b&gt; and &lt;b&gt;export&lt;/b&gt;: perplexity and KL divergence, then a quantized Hugging Face folder.</source>
        <translation>&lt;b&gt;評価&lt;/b&gt;と&lt;b&gt;エクスポート&lt;/b&gt;：パープレキシティと KL ダイバージェンス、そして量子化された Hugging Face フォルダー。</translation>
    </message>
    <message>
        <source>Figures measured under an earlier plan are drawn grey and marked out of date until the plan is quantized (or evaluated) again.</source>
        <translation>以前のプランで測定された数値は、プランを再度量子化（または評価）するまで灰色で表示され、古い結果として示されます。</translation>
    </message>
    <message>
        <source>Glossary</source>
        <translation>用語集</translation>
    </message>
    <message>
        <source>Dispersion score of channel c: |max − min| / log(1 + mean|x| + 10&lt;sup&gt;−5&lt;/sup&gt;) (the authors' code) or |max − min| / log(‖X&lt;sub&gt;c&lt;/sub&gt;‖&lt;sub&gt;1&lt;/sub&gt; + ε) (the paper, Eq. 5).</source>
        <translation>チャネル c の分散スコア：|max − min| / log(1 + mean|x| + 10&lt;sup&gt;−5&lt;/sup&gt;)（著者のコード）または |max − min| / log(‖X&lt;sub&gt;c&lt;/sub&gt;‖&lt;sub&gt;1&lt;/sub&gt; + ε)（論文の式 5）。</translation>
    </message>
    <message>
        <source>Thresholds μ + k·σ of D&lt;sub&gt;c&lt;/sub&gt; over the group's channels and over all groups' channels; a channel above the active ones is an outlier.</source>
        <translation>グループ内のチャネルと全グループのチャネルにおける D&lt;sub&gt;c&lt;/sub&gt; のしきい値 μ + k·σ。有効なしきい値を超えるチャネルが外れ値です。</translation>
    </message>
    <message>
        <source>Distribution-Aware Bias Compensation: the outlier channels (the mask) keep their quantization residual in 16 bits, an extra product over those channels only.</source>
        <translation>分布考慮バイアス補償：外れ値チャネル（マスク）は量子化残差を 16 ビットで保持し、それらのチャネルだけの追加積を計算します。</translation>
    </message>
    <message>
        <source>Element threshold: only |x| &gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; of a masked channel is compensated.</source>
        <translation>要素しきい値：マスクされたチャネルの |x| &gt; ρ·α&lt;sub&gt;c&lt;/sub&gt; のみを補償します。</translation>
    </message>
    <message>
        <source>Clipping bound of channel c (its static scale is α&lt;sub&gt;c&lt;/sub&gt; / q&lt;sub&gt;max&lt;/sub&gt;); α&lt;sub&gt;0&lt;/sub&gt; = max|X&lt;sub&gt;c&lt;/sub&gt;| over the calibration data.</source>
        <translation>チャネル c のクリッピング境界（静的スケールは α&lt;sub&gt;c&lt;/sub&gt; / q&lt;sub&gt;max&lt;/sub&gt;）。α&lt;sub&gt;0&lt;/sub&gt; = 校正データ上の max|X&lt;sub&gt;c&lt;/sub&gt;|。</translation>
    </message>
    <message>
        <source>Morphology-Directed Quantization Function Optimization: each α&lt;sub&gt;c&lt;/sub&gt; chosen to minimize L&lt;sub&gt;p&lt;/sub&gt; + λ&lt;sub&gt;cos&lt;/sub&gt;·L&lt;sub&gt;cos&lt;/sub&gt;.</source>
        <translation>形態指向の量子化関数最適化：L&lt;sub&gt;p&lt;/sub&gt; + λ&lt;sub&gt;cos&lt;/sub&gt;·L&lt;sub&gt;cos&lt;/sub&gt; を最小にするよう各 α&lt;sub&gt;c&lt;/sub&gt; を選びます。</translation>
    </message>
    <message>
        <source>mean |x − Q(x)|&lt;sup&gt;p&lt;/sup&gt;, and 1 − the mean cosine of each token with its quantized value.</source>
        <translation>mean |x − Q(x)|&lt;sup&gt;p&lt;/sup&gt;、および 1 − 各トークンとその量子化値の平均コサイン。</translation>
    </message>
    <message>
        <source>10 log&lt;sub&gt;10&lt;/sub&gt;(Σ|y|&lt;sup&gt;2&lt;/sup&gt; / Σ|y − y&lt;sub&gt;q&lt;/sub&gt;|&lt;sup&gt;2&lt;/sup&gt;) of a Linear's output, quantized against full precision, in dB.</source>
        <translation>Linear 出力の 10 log&lt;sub&gt;10&lt;/sub&gt;(Σ|y|&lt;sup&gt;2&lt;/sup&gt; / Σ|y − y&lt;sub&gt;q&lt;/sub&gt;|&lt;sup&gt;2&lt;/sup&gt;)（量子化対全精度、dB）。</translation>
    </message>
    <message>
        <source>Mean KL(full precision ‖ quantized) of the next-token distributions, in nats per token.</source>
        <translation>次トークン分布の平均 KL(全精度 ‖ 量子化)、トークンあたりのナット単位。</translation>
    </message>
    <message>
        <source>Effective bits</source>
        <translation>実効ビット数</translation>
    </message>
    <message>
        <source>Bits per activation element (and per multiply-add) with scales, zero points and compensated elements counted; bits per weight with scales.</source>
        <translation>スケール、ゼロ点、補償要素を含めた活性化要素あたり（および積和あたり）のビット数。重みはスケールを含めたビット数。</translation>
    </message>
    <message>
        <source>Input group</source>
        <translation>入力グループ</translation>
    </message>
    <message>
        <source>The Linears that read one input: q/k/v, o, gate/up, down of each layer.</source>
        <translation>同じ入力を読む Linear：各レイヤーの q/k/v、o、gate/up、down。</translation>
    </message>
    <message>
        <source>Simulated, deployable</source>
        <translation>シミュレーション、デプロイ可能</translation>
    </message>
    <message>
        <source>Simulated: weights and activations quantized separately, as the paper. Deployable: static activation scales folded into the weights, so an integer GEMM runs.</source>
        <translation>シミュレーション：論文と同じく重みと活性化を別々に量子化。デプロイ可能：静的な活性化スケールを重みに畳み込み、整数 GEMM を実行できます。</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>キーボードショートカット</translation>
    </message>
    <message>
        <source>Heatmap: zoom / pan the channels</source>
        <translation>ヒートマップ：チャネルのズーム / パン</translation>
    </message>
    <message>
        <source>Wheel / drag</source>
        <translation>ホイール / ドラッグ</translation>
    </message>
    <message>
        <source>MorphoQuant Workbench Guide</source>
        <translation>MorphoQuant ワークベンチ ガイド</translation>
    </message>
</context>
<context>
    <name>mq::ui::SensitivityView</name>
    <message>
        <source>Lowest SQNR by layer and modality</source>
        <translation>レイヤーとモダリティ別の最低 SQNR</translation>
    </message>
    <message>
        <source>Mean SQNR by layer and modality</source>
        <translation>レイヤーとモダリティ別の平均 SQNR</translation>
    </message>
    <message>
        <source>Cell:</source>
        <translation>セル：</translation>
    </message>
    <message>
        <source>lowest SQNR of the layer's modules</source>
        <translation>レイヤー内モジュールの最低 SQNR</translation>
    </message>
    <message>
        <source>mean SQNR of the layer's modules</source>
        <translation>レイヤー内モジュールの平均 SQNR</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>トークン</translation>
    </message>
    <message>
        <source>layer</source>
        <translation>レイヤー</translation>
    </message>
    <message>
        <source>SQNR (dB)</source>
        <translation>SQNR (dB)</translation>
    </message>
    <message>
        <source>No layer errors yet: Study → Quantize measures them</source>
        <translation>レイヤー誤差はまだありません：研究 → 量子化で測定します</translation>
    </message>
    <message>
        <source>Sensitivity by modality: no quantization plan yet</source>
        <translation>モダリティ別の感度：量子化プランはまだありません</translation>
    </message>
    <message>
        <source>Out of date: an earlier plan's (Study → Quantize)</source>
        <translation>古い結果：以前のプランのもの（研究 → 量子化）</translation>
    </message>
</context>
<context>
    <name>mq::ui::CompareView</name>
    <message numerus="yes">
        <source>DABC masks differ in %n channel(s)</source>
        <translation>
            <numerusform>DABC マスクは %n 個のチャネルで異なります</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source> of %n input group(s) (marked in the heatmap)</source>
        <translation>
            <numerusform>（%n 個の入力グループ、ヒートマップに表示）</numerusform>
        </translation>
    </message>
    <message>
        <source>Module</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>レイヤー</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <source>SQNR A (dB)</source>
        <translation>SQNR A (dB)</translation>
    </message>
    <message>
        <source>SQNR B (dB)</source>
        <translation>SQNR B (dB)</translation>
    </message>
    <message>
        <source>Δ B − A (dB)</source>
        <translation>Δ B − A (dB)</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>グループ</translation>
    </message>
    <message>
        <source>module (network order)</source>
        <translation>モジュール（ネットワーク順）</translation>
    </message>
    <message>
        <source>Δ SQNR, B − A (dB)</source>
        <translation>Δ SQNR、B − A (dB)</translation>
    </message>
    <message>
        <source>B better</source>
        <translation>B が良い</translation>
    </message>
    <message>
        <source>B worse</source>
        <translation>B が悪い</translation>
    </message>
    <message>
        <source>%1 has %2 Linear modules, the open session %3: not the same model</source>
        <translation>%1 の Linear モジュールは %2 個、開いているセッションは %3 個：同じモデルではありません</translation>
    </message>
    <message>
        <source>%1 has module %2 where the open session has %3: not the same model</source>
        <translation>%1 のモジュール %2 は、開いているセッションでは %3：同じモデルではありません</translation>
    </message>
    <message>
        <source>no plan</source>
        <translation>プランなし</translation>
    </message>
    <message>
        <source>: perplexity %1</source>
        <translation>：パープレキシティ %1</translation>
    </message>
    <message>
        <source>, KL %1</source>
        <translation>、KL %1</translation>
    </message>
    <message>
        <source>&lt;i&gt;(out of date)&lt;/i&gt;</source>
        <translation>&lt;i&gt;（古い結果）&lt;/i&gt;</translation>
    </message>
    <message>
        <source>: not evaluated</source>
        <translation>：未評価</translation>
    </message>
    <message>
        <source>Compare the open plan with another: File → Compare With Session..., or Study → Keep Plan for Comparison before trying other settings.</source>
        <translation>開いているプランを別のプランと比較：ファイル → セッションと比較...、または別の設定を試す前に 研究 → 比較用にプランを保持。</translation>
    </message>
    <message>
        <source>Open a session first.</source>
        <translation>先にセッションを開いてください。</translation>
    </message>
    <message>
        <source>A (open)</source>
        <translation>A（開いているもの）</translation>
    </message>
    <message>
        <source>B (%1)</source>
        <translation>B（%1）</translation>
    </message>
</context>
</TS>
