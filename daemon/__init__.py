"""PicGuard's daemon: the local service and the engine it runs."""

import os

__version__ = "0.1.0"

# faiss and OpenCV searches here are small (hundreds to a few hundred thousand descriptors);
# OpenMP teams of 2+ threads made each search 4-20x slower on this 2-core class of machine
# (measured 53 ms vs 394 ms), and Python worker threads do not inherit
# omp_set_num_threads(). The daemon parallelises across images instead, so one OpenMP thread
# is the default for every thread, set before faiss or cv2 is first imported. An explicit
# OMP_NUM_THREADS from the environment still wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")
