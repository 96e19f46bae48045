#!/bin/sh
# Train (or resume) the two CIFAR-10 models concurrently, one thread each (on a shared 2-core machine this
# beats one 2-thread job after the other: OpenMP barriers suffer badly when other processes compete):
#   nohup sh tools/train_cifar.sh > models/work/train_cifar.log 2>&1 &
# Each model checkpoints after every epoch in models/work/<name>/ckpt.pt; rerunning resumes.
cd "$(dirname "$0")/.." || exit 1
/usr/bin/python3 models/train.py vgg_small_cifar10 > models/work/train_vgg.log 2>&1 &
/usr/bin/python3 models/train.py resnet20_cifar10 || exit 1
wait
echo "train_cifar.sh: all done"
