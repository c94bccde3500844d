package main
import (
 _ "github.com/ethereum/go-ethereum/core"
 _ "github.com/ethereum/go-ethereum/core/vm"
 _ "github.com/ethereum/go-ethereum/trie"
 _ "github.com/ethereum/go-ethereum/rpc"
 _ "github.com/ethereum/go-ethereum/ethclient"
 _ "github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
 _ "github.com/ethereum/go-ethereum/accounts/abi/abigen"
 _ "github.com/ethereum/go-ethereum/consensus"
 _ "github.com/ethereum/go-ethereum/core/rawdb"
 _ "github.com/ethereum/go-ethereum/triedb"
)
func main(){}
