// Keeps the static daemon's glibc needs at 2.34 (EL9). See GlibcCompat.c.
#pragma once
