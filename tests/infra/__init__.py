"""Tests of the gigstack_testinfra plugin itself: every fixture backed by a server that really answers."""
