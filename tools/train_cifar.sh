#!/bin/sh
# Train (or resume) the two CIFAR-10 models, one after the other: ResNet-20 uses 2 threads (its recipe), which
# only pays on otherwise idle cores, so it does not share them with VGG-small:
#   nohup sh tools/train_cifar.sh > models/work/train_cifar.log 2>&1 &
# Each model checkpoints after every epoch in models/work/<name>/ckpt.pt; rerunning resumes.
cd "$(dirname "$0")/.." || exit 1
/usr/bin/python3 models/train.py resnet20_cifar10 || exit 1
/usr/bin/python3 models/train.py vgg_small_cifar10 || exit 1
echo "train_cifar.sh: all done"
