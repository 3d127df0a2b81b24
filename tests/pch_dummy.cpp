// Anchor for the tests precompiled header.
