"""AWS building blocks of the eks stack: network, EKS cluster, controller roles, managed data stores."""
