/**
 * The consensus store on etcd v3 ({@link io.repmgr4j.etcd.EtcdConsensusStore}): who may be
 * the replica set's primary is the holder of a leader key under a lease. Optional: put this
 * module on the class path and set {@code consensus = etcd}.
 */
package io.repmgr4j.etcd;
