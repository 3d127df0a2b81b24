# Writes tiny_qwen2_tokenizer.json (the fixture of tests/tst_tokenizer.cpp) beside this script
# and prints a reference encoding of the test strings, computed with the `regex` module and a
# naive lowest-rank-first BPE, as an independent check on the hand-derived ids in the test.
import json, os
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~")+1))+list(range(ord("¡"), ord("¬")+1))+list(range(ord("®"), ord("ÿ")+1))
    cs = bs[:]; n = 0
    for b in range(256):
        if b not in bs: bs.append(b); cs.append(256+n); n += 1
    return dict(zip(bs, map(chr, cs)))
b2u = bytes_to_unicode()
vocab = {b2u[b]: b for b in range(256)}
merges = ["Ġ t","h e","Ġt he","i n","o n","e r","l l","Ã ©","' t","n e","Ċ Ċ","2 0","Ġ Ġ","ä ¸"]
for m in merges:
    a,b = m.split(' '); vocab[a+b] = len(vocab)
added_names = ["<|endoftext|>","<|im_start|>","<|im_end|>","<|AUDIO|>","<|audio_bos|>","<|audio_eos|>","<|IMAGE|>","<|VIDEO|>","<|vision_bos|>","<|vision_eos|>"]
added = []
for i,c in enumerate(added_names):
    added.append({"id": len(vocab)+i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True})
pat = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
tok = {"version":"1.0","truncation":None,"padding":None,"added_tokens":added,
 "normalizer":{"type":"NFC"},
 "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":pat},"behavior":"Isolated","invert":False},{"type":"ByteLevel","add_prefix_space":False,"trim_offsets":False,"use_regex":False}]},
 "post_processor":{"type":"ByteLevel","add_prefix_space":False,"trim_offsets":False,"use_regex":False},
 "decoder":{"type":"ByteLevel","add_prefix_space":False,"trim_offsets":False,"use_regex":False},
 "model":{"type":"BPE","dropout":None,"unk_token":None,"continuing_subword_prefix":"","end_of_word_suffix":"","fuse_unk":False,"byte_fallback":False,"ignore_merges":False,"vocab":vocab,"merges":merges}}
s = json.dumps(tok, ensure_ascii=False, indent=1)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_qwen2_tokenizer.json"), "w", encoding="utf-8").write(s+"\n")
# reference encoder
import regex
ranks = {tuple(m.split(' ')):i for i,m in enumerate(merges)}
def bpe(word):
    syms = [b2u[b] for b in word.encode()]
    while len(syms)>1:
        best=None
        for i in range(len(syms)-1):
            r = ranks.get((syms[i],syms[i+1]))
            if r is not None and (best is None or r<best[0]): best=(r,i)
        if best is None: break
        i=best[1]; syms[i:i+2]=[syms[i]+syms[i+1]]
    return [vocab[s] for s in syms]
addmap = {a["content"]:a["id"] for a in added}
def enc(t):
    parts = regex.split("(" + "|".join(regex.escape(a) for a in sorted(addmap, key=len, reverse=True)) + ")", t)
    out=[]
    for p in parts:
        if p in addmap: out.append(addmap[p]); continue
        for m in regex.findall(pat, p): out += bpe(m)
    return out
for t in ["the"," the","the the","in the inner","her","ner","one","a  b","hi  ","a\n\nb","a \nb","x 2024","don't","DON'T","héllo","中"," 中","a<|IMAGE|>b","<|im_start|>user\nhi<|im_end|>\n","hi!!\n","a\tb","<|endoftext|><|endoftext|>","<|IMAGE"]:
    print(repr(t), enc(t))
