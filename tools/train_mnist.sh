#!/bin/sh
# Train (or resume) the small MNIST / Fashion-MNIST models and the int8 QDQ LeNet-5, one after the other.
cd "$(dirname "$0")/.." || exit 1
for m in lenet5_mnist mlp_mnist lenet5_fmnist lenet5_mnist_qdq; do
  /usr/bin/python3 models/train.py $m || exit 1
done
echo "train_mnist.sh: all done"
